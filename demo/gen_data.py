#!/usr/bin/env python3
"""Writes the demo data sets (deterministic; the outputs are checked in, so the demo never runs
this): demo/data/churn.csv, a customer churn export with realistic dirt, and
demo/data/churn-broken-export.csv, an export that fails validation.

Dirt in churn.csv, on purpose, so that cleanse and validate have work to do:
- categories padded with spaces and in mixed case (" Month-to-month", "ONE YEAR", "credit card ");
- NA, N/A, "?" and empty values; a missing label now and then;
- outliers (monthly charges of 99999 from a sentinel, negative tenure);
- ragged rows (a field too many or too few, from an unquoted comma in a free-text column);
- exact duplicate rows and re-sent customers (same customer_id);
- an unknown contract type.
"""
import random

COLUMNS = ["customer_id", "churned", "tenure_months", "monthly_charges", "total_charges",
           "contract", "payment_method", "senior_citizen", "support_calls"]
CONTRACTS = ["month-to-month", "one year", "two year"]
PAYMENTS = ["electronic check", "mailed check", "bank transfer", "credit card"]


def messy(rng, text):
    r = rng.random()
    if r < 0.10:
        return " " + text.title() + " "
    if r < 0.15:
        return text.upper()
    if r < 0.20:
        return text + "  "
    return text


def customer(rng, i, broken=False):
    contract = rng.choices(CONTRACTS, weights=[55, 25, 20])[0]
    tenure = max(0, int(rng.gauss({"month-to-month": 14, "one year": 36, "two year": 55}[contract], 12)))
    monthly = round(rng.uniform(18, 120), 2)
    senior = rng.random() < 0.16
    calls = min(12, int(rng.expovariate(0.6)))
    # churn depends on contract, tenure, charges and support calls: a model has signal to learn
    logit = (-1.2 + {"month-to-month": 1.4, "one year": -0.4, "two year": -1.6}[contract]
             - 0.035 * tenure + 0.012 * (monthly - 60) + 0.35 * calls + (0.4 if senior else 0))
    churned = 1 if rng.random() < 1 / (1 + 2.718281828 ** -logit) else 0
    if broken:
        churned = 1  # the export bug: every customer marked as churned
    total = round(monthly * max(tenure, 1) * rng.uniform(0.95, 1.05), 2)
    row = [f"C{i:06d}", str(churned), str(tenure), f"{monthly:.2f}", f"{total:.2f}",
           messy(rng, contract), messy(rng, rng.choice(PAYMENTS)), "yes" if senior else "no", str(calls)]
    return row


def dirty(rng, rows):
    out = []
    for row in rows:
        r = rng.random()
        if r < 0.03:
            row[4] = rng.choice(["NA", "", "N/A", "?"])          # missing total charges
        elif r < 0.045:
            row[1] = rng.choice(["", "NA"])                      # missing label
        elif r < 0.055:
            row[3] = "99999"                                     # sentinel outlier
        elif r < 0.060:
            row[2] = str(-rng.randint(1, 30))                    # negative tenure
        elif r < 0.065:
            row[5] = "three year"                                # unknown contract type
        elif r < 0.070:
            row[8] = rng.choice(["NA", "many"])                  # bad count
        line = ",".join(row)
        if rng.random() < 0.008:
            line += ",see notes"                                 # ragged: a field too many
        elif rng.random() < 0.006:
            line = ",".join(row[:-1])                            # ragged: a field too few
        out.append(line)
        if rng.random() < 0.02:
            out.append(line)                                     # exact duplicate
    return out


def write(path, lines):
    with open(path, "w", newline="\n") as f:
        f.write(",".join(COLUMNS) + "\n")
        for line in lines:
            f.write(line + "\n")


def main():
    rng = random.Random(20240601)
    rows = [customer(rng, i) for i in range(1, 2001)]
    write("demo/data/churn.csv", dirty(rng, rows))
    rng = random.Random(20240602)
    rows = [customer(rng, i, broken=True) for i in range(1, 401)]
    write("demo/data/churn-broken-export.csv", dirty(rng, rows))


if __name__ == "__main__":
    main()
