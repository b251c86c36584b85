import { fc, test } from "@fast-check/vitest";
import { CURRENCIES, currencyExponent, isCurrency, toMajorUnits, toMinorUnits } from "@paylink/core";
import { describe, expect } from "vitest";

describe("currencies", () => {
  // ISO 4217's minor units, a few codes from every part of the table.
  const exponents: Array<[string, number]> = [
    ["JPY", 0],
    ["KRW", 0],
    ["XOF", 0],
    ["AUD", 2],
    ["CHF", 2],
    ["EUR", 2],
    ["GBP", 2],
    ["INR", 2],
    ["MXN", 2],
    ["NOK", 2],
    ["SEK", 2],
    ["USD", 2],
    ["ZAR", 2],
    ["BHD", 3],
    ["KWD", 3],
    ["TND", 3],
    ["CLF", 4],
    ["UYW", 4],
  ];
  test.each(exponents)("%s has %i minor-unit digits", (code, exponent) => {
    expect(isCurrency(code)).toBe(true);
    expect(currencyExponent(code)).toBe(exponent);
    expect(CURRENCIES).toContain(code);
  });

  test("codes that are not active currencies, or not in upper case, are unknown", () => {
    for (const code of ["XAU", "XXX", "gbp", "", "GB", "GBPX"]) {
      expect(isCurrency(code)).toBe(false);
      expect(currencyExponent(code)).toBeUndefined();
      expect(CURRENCIES).not.toContain(code);
    }
  });

  test("CURRENCIES is sorted, without duplicates, and every code is a currency", () => {
    expect(CURRENCIES).toEqual([...CURRENCIES].sort());
    expect(new Set(CURRENCIES).size).toBe(CURRENCIES.length);
    expect(CURRENCIES.every(isCurrency)).toBe(true);
    expect(CURRENCIES.length).toBeGreaterThan(150);
  });
});

describe("toMajorUnits: minor units as an exact decimal string", () => {
  const cases: Array<[number, string, string]> = [
    [1999, "GBP", "19.99"],
    [5, "GBP", "0.05"],
    [0, "GBP", "0.00"],
    [-1999, "GBP", "-19.99"],
    [-5, "GBP", "-0.05"],
    [1999, "JPY", "1999"],
    [-7, "JPY", "-7"],
    [5, "KWD", "0.005"],
    [12345, "KWD", "12.345"],
    [1, "CLF", "0.0001"],
    [Number.MAX_SAFE_INTEGER, "GBP", "90071992547409.91"],
  ];
  test.each(cases)("%d %s is %s", (minor, currency, major) => {
    expect(toMajorUnits(minor, currency)).toBe(major);
  });

  test("an unknown currency or an amount that is not a safe integer has no major units", () => {
    expect(toMajorUnits(100, "ABC")).toBeUndefined();
    expect(toMajorUnits(1.5, "GBP")).toBeUndefined();
    expect(toMajorUnits(2 ** 53, "GBP")).toBeUndefined();
    expect(toMajorUnits(Number.NaN, "JPY")).toBeUndefined();
  });
});

describe("toMinorUnits: a plain decimal in major units as exact minor units", () => {
  const cases: Array<[string | number, string, number]> = [
    ["19.99", "GBP", 1999],
    ["19.9", "GBP", 1990],
    ["19", "GBP", 1900],
    ["0.05", "GBP", 5],
    ["-19.99", "GBP", -1999],
    ["1.10", "GBP", 110],
    ["1.1000", "GBP", 110],
    ["1.5", "GBP", 150],
    ["12", "JPY", 12],
    ["12.000", "JPY", 12],
    ["0.005", "KWD", 5],
    [1.1, "GBP", 110],
    [19.99, "GBP", 1999],
    [-2, "JPY", -2],
  ];
  test.each(cases)("%s %s is %d", (major, currency, minor) => {
    expect(toMinorUnits(major, currency)).toBe(minor);
  });

  const refused: Array<[string | number, string]> = [
    ["1.001", "GBP"],
    ["1.005", "GBP"],
    ["1.25", "JPY"],
    ["1.0001", "KWD"],
    ["abc12", "GBP"],
    ["12abc", "GBP"],
    ["1.", "GBP"],
    [".5", "GBP"],
    ["1e3", "GBP"],
    [" 1", "GBP"],
    ["+1", "GBP"],
    ["1,5", "GBP"],
    ["", "GBP"],
    ["-", "GBP"],
    [Number.NaN, "GBP"],
    [Number.POSITIVE_INFINITY, "GBP"],
    ["10", "ABC"],
    ["90071992547409.92", "GBP"],
  ];
  test.each(refused)("%s %s is refused", (major, currency) => {
    expect(toMinorUnits(major, currency)).toBeUndefined();
  });

  test.prop([fc.constantFrom(...CURRENCIES), fc.maxSafeInteger()])(
    "reads back what toMajorUnits writes, for every currency",
    (currency, minor) => {
      expect(toMinorUnits(toMajorUnits(minor, currency)!, currency)).toBe(minor);
    },
  );
});
