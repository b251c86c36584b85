// Generated from lifecycleMachine by `pnpm docs:generate`. Paste into Stately's "Import from code".
import { createMachine } from "xstate";

export default createMachine({
  "id": "payment",
  "context": {
    "kind": "link",
    "expiresAt": null
  },
  "initial": "link",
  "states": {
    "link": {
      "description": "A hosted payment link sent to a customer.",
      "initial": "open",
      "on": {
        "START_PAYMENT": {
          "actions": {
            "type": "reject",
            "params": {
              "code": "link_not_payable"
            }
          }
        },
        "CANCEL": {
          "actions": {
            "type": "reject",
            "params": {
              "code": "payment_not_cancelable"
            }
          }
        }
      },
      "states": {
        "open": {
          "description": "Payable and cancelable: nothing is in flight and nothing is final.",
          "initial": "pending",
          "on": {
            "START_PAYMENT": {
              "target": "processing",
              "actions": [
                {
                  "type": "stamp",
                  "params": {
                    "field": "attemptedAt",
                    "at": "now"
                  }
                },
                {
                  "type": "emit",
                  "params": {
                    "event": "payment_started"
                  }
                }
              ]
            },
            "PAYMENT_SUCCEEDED": {
              "target": "paid",
              "actions": [
                {
                  "type": "stamp",
                  "params": {
                    "field": "attemptedAt",
                    "at": "now"
                  }
                },
                {
                  "type": "stamp",
                  "params": {
                    "field": "paidAt",
                    "at": "now"
                  }
                },
                {
                  "type": "emit",
                  "params": {
                    "event": "paid"
                  }
                }
              ]
            },
            "CANCEL": {
              "target": "canceled",
              "actions": [
                {
                  "type": "stamp",
                  "params": {
                    "field": "canceledAt",
                    "at": "now"
                  }
                },
                {
                  "type": "emit",
                  "params": {
                    "event": "canceled"
                  }
                }
              ]
            },
            "EXPIRE": {
              "guard": "isDue",
              "target": "expired",
              "actions": [
                {
                  "type": "stamp",
                  "params": {
                    "field": "expiredAt",
                    "at": "expiresAt"
                  }
                },
                {
                  "type": "emit",
                  "params": {
                    "event": "expired"
                  }
                }
              ]
            }
          },
          "states": {
            "pending": {
              "description": "Created, not opened yet.",
              "on": {
                "VIEW": {
                  "target": "viewed",
                  "actions": [
                    {
                      "type": "stamp",
                      "params": {
                        "field": "viewedAt",
                        "at": "now"
                      }
                    },
                    {
                      "type": "emit",
                      "params": {
                        "event": "viewed"
                      }
                    }
                  ]
                }
              }
            },
            "viewed": {
              "description": "The customer opened the link."
            },
            "attempted": {
              "description": "A payment attempt failed or was abandoned; still payable."
            }
          }
        },
        "processing": {
          "description": "A payment is in flight; it expires only after its outcome.",
          "on": {
            "PAYMENT_FAILED": [
              {
                "guard": "isDue",
                "target": "expired",
                "actions": [
                  {
                    "type": "stamp",
                    "params": {
                      "field": "expiredAt",
                      "at": "now"
                    }
                  },
                  {
                    "type": "emit",
                    "params": {
                      "event": "payment_failed"
                    }
                  },
                  {
                    "type": "emit",
                    "params": {
                      "event": "expired"
                    }
                  }
                ]
              },
              {
                "target": "open.attempted",
                "actions": {
                  "type": "emit",
                  "params": {
                    "event": "payment_failed"
                  }
                }
              }
            ],
            "PAYMENT_SUCCEEDED": {
              "target": "paid",
              "actions": [
                {
                  "type": "stamp",
                  "params": {
                    "field": "paidAt",
                    "at": "now"
                  }
                },
                {
                  "type": "emit",
                  "params": {
                    "event": "paid"
                  }
                }
              ]
            }
          }
        },
        "paid": {
          "description": "Paid. Final.",
          "tags": [
            "terminal"
          ]
        },
        "canceled": {
          "description": "Canceled. Final; a second cancel is a no-op.",
          "tags": [
            "terminal"
          ],
          "on": {
            "CANCEL": {},
            "PAYMENT_SUCCEEDED": {
              "actions": {
                "type": "emit",
                "params": {
                  "event": "late_payment"
                }
              }
            }
          }
        },
        "expired": {
          "description": "Expired. Final.",
          "tags": [
            "terminal"
          ],
          "on": {
            "PAYMENT_SUCCEEDED": {
              "actions": {
                "type": "emit",
                "params": {
                  "event": "late_payment"
                }
              }
            }
          }
        }
      }
    },
    "charge": {
      "description": "A direct charge: never viewed, never expires, never cancelable.",
      "initial": "pending",
      "on": {
        "START_PAYMENT": {
          "actions": {
            "type": "reject",
            "params": {
              "code": "link_not_payable"
            }
          }
        },
        "CANCEL": {
          "actions": {
            "type": "reject",
            "params": {
              "code": "charge_not_cancelable"
            }
          }
        }
      },
      "states": {
        "pending": {
          "on": {
            "START_PAYMENT": {
              "target": "processing",
              "actions": [
                {
                  "type": "stamp",
                  "params": {
                    "field": "attemptedAt",
                    "at": "now"
                  }
                },
                {
                  "type": "emit",
                  "params": {
                    "event": "payment_started"
                  }
                }
              ]
            },
            "PAYMENT_SUCCEEDED": {
              "target": "paid",
              "actions": [
                {
                  "type": "stamp",
                  "params": {
                    "field": "attemptedAt",
                    "at": "now"
                  }
                },
                {
                  "type": "stamp",
                  "params": {
                    "field": "paidAt",
                    "at": "now"
                  }
                },
                {
                  "type": "emit",
                  "params": {
                    "event": "paid"
                  }
                }
              ]
            }
          }
        },
        "processing": {
          "on": {
            "PAYMENT_FAILED": {
              "target": "failed",
              "actions": {
                "type": "emit",
                "params": {
                  "event": "failed"
                }
              }
            },
            "PAYMENT_SUCCEEDED": {
              "target": "paid",
              "actions": [
                {
                  "type": "stamp",
                  "params": {
                    "field": "paidAt",
                    "at": "now"
                  }
                },
                {
                  "type": "emit",
                  "params": {
                    "event": "paid"
                  }
                }
              ]
            }
          }
        },
        "paid": {
          "description": "Paid. Final.",
          "tags": [
            "terminal"
          ]
        },
        "failed": {
          "description": "Failed. Final.",
          "tags": [
            "terminal"
          ],
          "on": {
            "PAYMENT_SUCCEEDED": {
              "actions": {
                "type": "emit",
                "params": {
                  "event": "late_payment"
                }
              }
            }
          }
        }
      }
    }
  }
});
