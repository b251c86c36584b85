/**
 * Active ISO 4217 currency codes and their minor-unit exponents. Codes for precious metals, funds and
 * testing (XAU, XXX …) are not accepted for payments.
 */
const EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND";
const EXPONENT_4 = "CLF UYW";
const EXPONENT_2 =
  "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW " +
  "CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS " +
  "INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN " +
  "NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC " +
  "SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG";

const table = new Map<string, number>();
for (const [codes, exponent] of [
  [EXPONENT_0, 0],
  [EXPONENT_2, 2],
  [EXPONENT_3, 3],
  [EXPONENT_4, 4],
] as const) {
  for (const code of codes.split(" ")) table.set(code, exponent);
}

/** Every accepted currency code, sorted. */
export const CURRENCIES: readonly string[] = [...table.keys()].sort();

/** True for an active ISO 4217 code in upper case, e.g. `GBP`. */
export function isCurrency(code: string): boolean {
  return table.has(code);
}

/** The number of minor-unit digits of `currency` (JPY 0, GBP 2, KWD 3), or `undefined` if unknown. */
export function currencyExponent(currency: string): number | undefined {
  return table.get(currency);
}

/**
 * Formats an integer amount in minor units as a decimal string in major units, exactly, without float
 * arithmetic: `toMajorUnits(1999, "GBP") === "19.99"`, `toMajorUnits(5, "KWD") === "0.005"`.
 * Returns `undefined` for an unknown currency or an amount that is not a safe integer.
 */
export function toMajorUnits(minor: number, currency: string): string | undefined {
  const exponent = table.get(currency);
  if (exponent === undefined || !Number.isSafeInteger(minor)) return undefined;
  const sign = minor < 0 ? "-" : "";
  const digits = Math.abs(minor).toString();
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, "0");
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/**
 * Parses a decimal string or number in major units into integer minor units, exactly. Refuses more
 * fraction digits than the currency has (`"1.001"` GBP) and anything that is not a plain decimal.
 */
export function toMinorUnits(major: string | number, currency: string): number | undefined {
  const exponent = table.get(currency);
  if (exponent === undefined) return undefined;
  // Numbers go through their shortest round-trip string (1.1 → "1.1"), never through multiplication;
  // "NaN", "Infinity" and exponent forms ("1e+21") fail the pattern below.
  const text = String(major);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole, fraction = ""] = match;
  if (fraction.replace(/0+$/, "").length > exponent) return undefined;
  const minor = Number(`${sign}${whole}${fraction.padEnd(exponent, "0").slice(0, exponent)}`);
  return Number.isSafeInteger(minor) ? minor : undefined;
}
