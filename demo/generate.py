#!/usr/bin/env python3
# demo/generate.py: deterministic synthetic demo data for aidcost.
#
# Writes demo/clients.csv and demo/deliveries.csv (formats: docs/formats.md) for four
# fictitious providers and the years 2019 and 2024. Every person is invented: client ids are
# pseudonyms (C19-0001, C24-0001, ...), there are no names and no personal codes.
#
# Python 3.11+, standard library only. Randomness comes from random.Random with fixed seeds,
# and money is computed with decimal.Decimal, so the output is byte-identical on every run.
#
# Calibration: the script values every delivery the way the aidcost library does (billed
# quantity rounded up to min_increment; cap per client per element per calendar year, excess
# unpriced; graduated tiers counted per client per element per calendar year in date order;
# pass-through price 1; each line rounded once, half-up, to the cent; a provider table
# covering the date and pricing the element wins over the national table), and scales the
# hours of hour-unit staff elements by a per-year factor found by bisection so that the valued
# total lands on the target (2019: EUR 165,000, the SADM funding reported in TIP 2020;
# 2024: EUR 295,000). Per-year and per-provider totals are printed to stderr.
#
# Usage: python3 demo/generate.py

import csv
import random
import sys
import tomllib
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLES = HERE.parent / "pricing-tables"

SEED = 20190224
CENT = Decimal("0.01")

YEARS = {
    # year: (assisted clients, not-assisted applicants, target valued total in EUR)
    2019: (224, 12, Decimal("165000")),
    2024: (252, 14, Decimal("295000")),
}

PROVIDERS = ["PRV-VILNIUS", "PRV-KAUNAS", "PRV-KLAIPEDA", "PRV-SIAULIAI"]
PROVIDER_SHARE = {"PRV-VILNIUS": 0.38, "PRV-KAUNAS": 0.28, "PRV-KLAIPEDA": 0.20, "PRV-SIAULIAI": 0.14}

TARGET_GROUPS = ["risk_family", "working_age", "domestic_violence", "school_leaver", "care_leaver",
                 "single_parent", "risk_minor", "crisis", "addiction", "low_socialised",
                 "foreign_worker"]

# Primary target group weights per provider (adults). Vilnius and Klaipeda see more foreign
# workers; Siauliai more rural, low-socialised and at-risk families.
PRIMARY_GROUP_WEIGHTS = {
    "PRV-VILNIUS":  {"working_age": 24, "foreign_worker": 22, "domestic_violence": 12, "crisis": 10, "addiction": 8,
                     "single_parent": 6, "care_leaver": 6, "school_leaver": 5, "risk_family": 4, "low_socialised": 3},
    "PRV-KAUNAS":   {"working_age": 22, "domestic_violence": 16, "crisis": 12, "care_leaver": 10, "addiction": 10,
                     "single_parent": 9, "foreign_worker": 8, "risk_family": 6, "school_leaver": 4, "low_socialised": 3},
    "PRV-KLAIPEDA": {"foreign_worker": 24, "working_age": 22, "crisis": 14, "addiction": 10, "domestic_violence": 10,
                     "single_parent": 6, "care_leaver": 5, "risk_family": 5, "school_leaver": 2, "low_socialised": 2},
    "PRV-SIAULIAI": {"low_socialised": 18, "risk_family": 16, "working_age": 16, "domestic_violence": 12,
                     "single_parent": 10, "school_leaver": 8, "care_leaver": 8, "addiction": 7, "crisis": 3,
                     "foreign_worker": 2},
}

# Base probability that an adult's needs assessment lists an element.
ADULT_NEED_P = {
    "CASE_MGMT": 0.85, "CONSULT": 0.80, "MEDIATE": 0.40, "ACCOMPANY": 0.50, "FOOD": 0.25,
    "ESSENTIALS": 0.30, "TRANSPORT": 0.45, "SOCIOCULT": 0.20, "HYGIENE": 0.25, "SKILLS": 0.30,
    "CRISIS": 0.15, "PSYCHOSOC": 0.40, "OVERNIGHT": 0.12, "SHELTER": 0.30, "PSYCH": 0.50,
    "PSYCHOTHERAPY": 0.10, "LEGAL_CONSULT": 0.55, "LEGAL_REP": 0.18, "INTERPRET": 0.03,
    "TRANSLATE": 0.03, "MEDICAL": 0.30, "DOCS": 0.15, "CASH_AID": 0.30, "EMPLOY": 0.30,
    "RETURN": 0.0,
}
FOREIGN_NEED_P = {"INTERPRET": 0.90, "TRANSLATE": 0.55, "DOCS": 0.45, "RETURN": 0.22, "LEGAL_CONSULT": 0.80}

# Provider mix profiles: multipliers on the base probabilities.
PROVIDER_MIX = {
    "PRV-VILNIUS":  {"LEGAL_REP": 1.6, "LEGAL_CONSULT": 1.15, "PSYCHOTHERAPY": 1.4, "SHELTER": 0.9, "TRANSPORT": 0.7,
                     "EMPLOY": 1.2},
    "PRV-KAUNAS":   {"SHELTER": 1.5, "FOOD": 1.5, "PSYCHOTHERAPY": 1.6, "CRISIS": 1.4, "SKILLS": 1.3,
                     "LEGAL_REP": 0.8},
    "PRV-KLAIPEDA": {"SHELTER": 1.4, "OVERNIGHT": 2.2, "FOOD": 1.3, "HYGIENE": 1.4, "LEGAL_REP": 0.7,
                     "PSYCHOTHERAPY": 0.5},
    "PRV-SIAULIAI": {"TRANSPORT": 1.8, "CONSULT": 1.1, "SKILLS": 1.4, "SHELTER": 0.5, "LEGAL_REP": 0.5,
                     "PSYCH": 0.8, "OVERNIGHT": 0.6, "EMPLOY": 1.3},
}
# Length of shelter stays (nights) per provider: (short share, long share).
SHELTER_PROFILE = {"PRV-VILNIUS": (0.40, 0.20), "PRV-KAUNAS": (0.25, 0.40),
                   "PRV-KLAIPEDA": (0.35, 0.30), "PRV-SIAULIAI": (0.55, 0.10)}

CHILD_NEED_P = {"CHILD_SVC": 0.95, "PSYCH": 0.55, "SOCIOCULT": 0.60, "FOOD": 0.45, "ESSENTIALS": 0.50,
                "HYGIENE": 0.30, "PSYCHOSOC": 0.25, "MEDICAL": 0.20, "TRANSPORT": 0.15}

# Elements that are not client deliveries (prevention and capacity building).
NOT_CLIENT = {"PREV_EVENT", "PUBLICATION", "SOCIAL_AD", "SUPERVISION", "TRAINING"}
# Hour-unit staff elements whose hours are scaled by the calibration factor.
SCALED = {"CASE_MGMT", "CONSULT", "MEDIATE", "ACCOMPANY", "SKILLS", "EMPLOY", "CHILD_SVC",
          "LEGAL_CONSULT", "LEGAL_REP", "INTERPRET", "OUTREACH"}
# Staff hours per unit for session-unit elements (hour units: staff hours = quantity).
SESSION_STAFF_HOURS = {"PSYCHOSOC": Decimal("1.25"), "PSYCH": Decimal("1"), "PSYCHOTHERAPY": Decimal("1")}


# --------------------------------------------------------------------------------------------
# price tables


def load_tables():
    catalog = tomllib.loads((TABLES / "catalog.toml").read_text(encoding="utf-8"))
    units = {e["code"]: e["unit"] for e in catalog["element"]}
    tables = []
    for path in sorted(TABLES.glob("*.toml")):
        if path.name == "catalog.toml":
            continue
        t = tomllib.loads(path.read_text(encoding="utf-8"))
        rows = {}
        for p in t["price"]:
            row = {"min_increment": Decimal(p["min_increment"]) if "min_increment" in p else None,
                   "cap": Decimal(p["cap_per_client_year"]) if "cap_per_client_year" in p else None}
            if p.get("pass_through"):
                row["tiers"] = [(None, Decimal("1"))]
            elif "tiers" in p:
                row["tiers"] = [(Decimal(x["up_to"]) if "up_to" in x else None, Decimal(x["unit_price"]))
                                for x in p["tiers"]]
            else:
                row["tiers"] = [(None, Decimal(p["unit_price"]))]
            rows[p["element"]] = row
        tables.append({"scope": t["scope"], "provider": t.get("provider"),
                       "from": date.fromisoformat(t["valid_from"]), "to": date.fromisoformat(t["valid_to"]),
                       "rows": rows, "name": path.name})
    return units, tables


def price_row(tables, provider, element, d):
    for scope in ("provider", "national"):
        for t in tables:
            if t["scope"] != scope or (scope == "provider" and t["provider"] != provider):
                continue
            if t["from"] <= d <= t["to"] and element in t["rows"]:
                return t["rows"][element]
    raise SystemExit(f"no price for {element} of {provider} on {d}")


def value_lines(lines, tables):
    """Value delivery lines (sorted by date) as the library does; returns a list of amounts."""
    used = defaultdict(Decimal)  # (client, element, year) -> billed quantity so far
    amounts = []
    for ln in lines:
        row = price_row(tables, ln["provider"], ln["element"], ln["date"])
        q = ln["quantity"]
        inc = row["min_increment"]
        if inc:
            q = (q / inc).to_integral_value(rounding=ROUND_CEILING) * inc
        key = (ln["client"], ln["element"], ln["date"].year)
        start = used[key]
        used[key] = start + q
        priced = q
        if row["cap"] is not None:
            priced = max(Decimal(0), min(q, row["cap"] - start))
        # walk the tiers from cumulative position `start`
        amount = Decimal(0)
        pos, left = start, priced
        for up_to, price in row["tiers"]:
            if left <= 0:
                break
            if up_to is None:
                take = left
            else:
                take = max(Decimal(0), min(left, up_to - pos)) if pos < up_to else Decimal(0)
            amount += take * price
            left -= take
            pos += take
        amounts.append(amount.quantize(CENT, rounding=ROUND_HALF_UP))
    return amounts


# --------------------------------------------------------------------------------------------
# synthetic people and deliveries


def dec(x, places=2):
    return Decimal(x).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def rand_date(rng, lo, hi):
    return lo + timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


def weighted(rng, weights):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def make_clients(rng, year, n_assisted, n_not):
    """Returns a list of client dicts (internal keys; ids assigned later)."""
    n_children = round(n_assisted * 0.17)
    n_adults = n_assisted - n_children
    jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
    adults = []
    counts = {p: round(n_adults * PROVIDER_SHARE[p]) for p in PROVIDERS}
    counts["PRV-VILNIUS"] += n_adults - sum(counts.values())
    for prov in PROVIDERS:
        for _ in range(counts[prov]):
            primary = weighted(rng, PRIMARY_GROUP_WEIGHTS[prov])
            groups = [primary]
            for g in rng.sample(TARGET_GROUPS, 2):
                if g != primary and g != "risk_minor" and rng.random() < 0.35:
                    groups.append(g)
            r = rng.random()
            if r < 0.04:   # applied late in the previous year, helped on into this one
                applied = rand_date(rng, date(year - 1, 11, 15), date(year - 1, 12, 31))
            elif r < 0.90:
                applied = rand_date(rng, jan1, date(year, 9, 30))
            else:
                applied = rand_date(rng, date(year, 10, 1), date(year, 12, 10))
            status = rng.choices(["identified", "presumed", "at_risk"], weights=[36, 34, 30])[0]
            coop_p = {"identified": 0.75, "presumed": 0.40, "at_risk": 0.15}[status]
            adults.append({"provider": prov, "applied": applied, "assisted": True, "age": "adult",
                           "parent": None, "groups": groups, "status": status,
                           "coop": rng.random() < coop_p, "year": year})
    # children, linked to adults of the same provider (parents mostly from parent-like groups)
    parent_like = [a for a in adults if a["groups"][0] in
                   ("single_parent", "risk_family", "domestic_violence", "working_age", "crisis")]
    children = []
    for _ in range(n_children):
        parent = rng.choice(parent_like)
        groups = ["risk_minor"] + [g for g in parent["groups"] if g in ("risk_family", "domestic_violence")][:1]
        if rng.random() < 0.15:
            groups.append("school_leaver")
        children.append({"provider": parent["provider"], "applied": parent["applied"], "assisted": True,
                         "age": "child", "parent": parent, "groups": groups,
                         "status": rng.choices(["identified", "presumed", "at_risk"], weights=[15, 25, 60])[0],
                         "coop": False, "year": year})
    # applicants who were not assisted (outside the target group, declined, or referred on)
    others = []
    for i in range(n_not):
        prov = PROVIDERS[i % len(PROVIDERS)] if i < 8 else rng.choice(PROVIDERS)
        others.append({"provider": prov, "applied": rand_date(rng, jan1, dec31), "assisted": False,
                       "age": "adult", "parent": None, "groups": [weighted(rng, PRIMARY_GROUP_WEIGHTS[prov])],
                       "status": rng.choices(["presumed", "at_risk"], weights=[30, 70])[0],
                       "coop": False, "year": year, "needs": [], "outcomes": []})
    return adults, children, others


def assign_needs(rng, adults, children):
    for a in adults:
        if rng.random() < 0.07:          # no individual needs assessment
            a["needs"] = []
            continue
        foreign = "foreign_worker" in a["groups"]
        mix = PROVIDER_MIX[a["provider"]]
        needs = []
        for el, p in ADULT_NEED_P.items():
            if foreign and el in FOREIGN_NEED_P:
                p = FOREIGN_NEED_P[el]
            p = min(0.97, p * mix.get(el, 1.0))
            if rng.random() < p:
                needs.append(el)
        if "SHELTER" in needs and "FOOD" not in needs and rng.random() < 0.3:
            needs.append("FOOD")
        if not needs:
            needs = ["CONSULT"]
        a["needs"] = needs
    for c in children:
        needs = [el for el, p in CHILD_NEED_P.items() if rng.random() < p]
        if "SHELTER" in c["parent"]["needs"] and rng.random() < 0.8:
            needs.append("SHELTER")
        c["needs"] = needs or ["CHILD_SVC"]


def outcomes_for(rng, c):
    if c["age"] == "child":
        if rng.random() < 0.50:
            return [o for o in ("family", "studying", "social_life") if rng.random() < 0.55] or ["studying"]
        return []
    if rng.random() >= 0.50:
        return []
    out = []
    for o, p in (("social_life", 0.55), ("family", 0.30), ("working", 0.45), ("studying", 0.12)):
        if rng.random() < p:
            out.append(o)
    return out or ["social_life"]


def hours(rng, lo, hi):
    """A staff-time quantity in tenths of an hour, e.g. 1.1 (hour units)."""
    return Decimal(rng.randint(lo, hi)) / 10


def gen_deliveries(rng, c, window):
    """Base deliveries for one assisted client: list of (date, element, base quantity)."""
    start, end = window
    out = []

    def on(d, el, q):
        out.append((d, el, q))

    def some_date():
        return rand_date(rng, start, end)

    needs = list(c["needs"])
    missed = set()
    if needs and rng.random() < 0.27:
        missed.add(rng.choice(needs))
        if len(needs) > 4 and rng.random() < 0.3:
            missed.add(rng.choice(needs))
    if needs and (date(c["year"], 12, 31) - start).days < 20:
        # applied in December: the plan could only be started
        missed.update(el for el in needs if el not in ("CONSULT", "CASE_MGMT", "SHELTER") and rng.random() < 0.5)
    missed -= {el for el in ("TRANSPORT", "OVERNIGHT") if c.get(el.lower() + "_heavy")}
    c["missed"] = missed
    deliver = [el for el in needs if el not in missed]

    if c["age"] == "adult":
        if needs:
            on(start, "INTAKE", Decimal(1))
        if rng.random() < 0.30:
            on(start, "OUTREACH", hours(rng, 5, 30))
        if rng.random() < 0.45:
            for _ in range(rng.randint(1, 3)):
                on(some_date(), "INFO", Decimal(rng.randint(1, 2)))
        if rng.random() < 0.30:
            for _ in range(rng.randint(1, 4)):
                on(some_date(), "HOTLINE", Decimal(rng.randint(1, 3)))
        if not needs:  # no assessment: short contacts only
            for _ in range(rng.randint(1, 3)):
                on(some_date(), "CONSULT", hours(rng, 5, 15))
            if rng.random() < 0.4:
                on(some_date(), "TRANSPORT", Decimal(rng.randint(5, 60)))

    for el in deliver:
        if el == "SHELTER":
            if c["age"] == "child" and "shelter" in c["parent"]:
                for d, q in c["parent"]["shelter"]:
                    on(d, "SHELTER", q)
                continue
            short, long_ = SHELTER_PROFILE[c["provider"]]
            r = rng.random()
            nights = (rng.randint(3, 18) if r < short else
                      rng.randint(40, 100) if r > 1 - long_ else rng.randint(16, 39))
            s = start + timedelta(days=rng.randint(0, 10))
            last = min(s + timedelta(days=nights - 1), date(c["year"], 12, 31))
            segs = []
            d = s
            while d <= last:  # one line per calendar month of the stay
                nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
                seg_end = min(last, nxt - timedelta(days=1))
                segs.append((d, Decimal((seg_end - d).days + 1)))
                d = nxt
            if not segs:
                continue
            c["shelter"] = segs
            for d, q in segs:
                on(d, "SHELTER", q)
            if "FOOD" in deliver:
                for d, q in segs:
                    on(d, "FOOD", q)
        elif el == "FOOD":
            if "SHELTER" in deliver and c["age"] == "adult":
                continue  # delivered with the stay
            for _ in range(rng.randint(1, 3)):
                on(some_date(), "FOOD", Decimal(rng.randint(3, 14)))
        elif el == "OVERNIGHT":
            heavy = c.get("overnight_heavy")
            for _ in range(rng.randint(6, 8) if heavy else rng.randint(1, 3)):
                on(some_date(), "OVERNIGHT", Decimal(rng.randint(9, 14) if heavy else rng.randint(2, 10)))
        elif el == "TRANSPORT":
            heavy = c.get("transport_heavy")
            for _ in range(rng.randint(9, 12) if heavy else rng.randint(1, 6)):
                on(some_date(), "TRANSPORT", Decimal(rng.randint(180, 320) if heavy else rng.randint(8, 140)))
        elif el == "CASE_MGMT":
            for _ in range(rng.randint(3, 8)):
                on(some_date(), el, hours(rng, 5, 20))
        elif el == "CONSULT":
            for _ in range(rng.randint(2, 6)):
                on(some_date(), el, hours(rng, 5, 15))
        elif el in ("MEDIATE", "ACCOMPANY"):
            for _ in range(rng.randint(1, 4)):
                on(some_date(), el, hours(rng, 10, 30))
        elif el in ("ESSENTIALS", "HYGIENE"):
            for _ in range(rng.randint(1, 2)):
                on(some_date(), el, Decimal(rng.randint(1, 5)))
        elif el == "SOCIOCULT":
            for _ in range(rng.randint(1, 6)):
                on(some_date(), el, Decimal(1))
        elif el == "SKILLS":
            for _ in range(rng.randint(3, 8)):
                on(some_date(), el, hours(rng, 10, 20))
        elif el == "CRISIS":
            for _ in range(rng.randint(1, 2)):
                on(some_date(), el, Decimal(rng.randint(1, 5)))
        elif el in ("PSYCHOSOC", "PSYCH"):
            for _ in range(rng.randint(2, 7)):
                on(some_date(), el, Decimal(1))
        elif el == "PSYCHOTHERAPY":
            for _ in range(rng.randint(4, 12)):
                on(some_date(), el, Decimal(1))
        elif el == "LEGAL_CONSULT":
            for _ in range(rng.randint(1, 4)):
                on(some_date(), el, hours(rng, 5, 20))
        elif el == "LEGAL_REP":
            for _ in range(rng.randint(2, 6)):
                on(some_date(), el, hours(rng, 10, 35))
        elif el == "INTERPRET":
            for _ in range(rng.randint(1, 6)):
                on(some_date(), el, hours(rng, 5, 30))
        elif el == "TRANSLATE":
            for _ in range(rng.randint(1, 3)):
                on(some_date(), el, Decimal(rng.randint(1, 8)))
        elif el == "MEDICAL":
            for _ in range(rng.randint(1, 3)):
                on(some_date(), el, Decimal(rng.randint(500, 9000)) / 100)
        elif el == "DOCS":
            for _ in range(rng.randint(1, 2)):
                on(some_date(), el, Decimal(rng.randint(1500, 8000)) / 100)
        elif el == "CASH_AID":
            for _ in range(rng.randint(1, 2)):
                on(some_date(), el, Decimal(rng.randint(2000, 10000)) / 100)
        elif el == "EMPLOY":
            for _ in range(rng.randint(2, 6)):
                on(some_date(), el, hours(rng, 10, 25))
        elif el == "CHILD_SVC":
            for _ in range(rng.randint(3, 10)):
                on(some_date(), el, hours(rng, 10, 25))
        elif el == "RETURN":
            on(rand_date(rng, start + (end - start) // 2, end), el, Decimal(1))
        else:
            raise SystemExit(f"no delivery pattern for {el}")
    return out


def build_year(year, units):
    n_assisted, n_not, _target = YEARS[year]
    rng = random.Random(SEED * 10 + year)
    adults, children, others = make_clients(rng, year, n_assisted, n_not)
    assign_needs(rng, adults, children)

    # a couple of clients whose transport or overnight use runs over the yearly cap
    cand = [a for a in adults if a["provider"] in ("PRV-SIAULIAI", "PRV-KLAIPEDA") and a["needs"]
            and a["applied"].month <= 6]
    for a in rng.sample(cand, 2):
        a["transport_heavy"] = True
        if "TRANSPORT" not in a["needs"]:
            a["needs"].append("TRANSPORT")
    cand = [a for a in adults if a["provider"] in ("PRV-KLAIPEDA", "PRV-VILNIUS") and a["needs"]
            and a["applied"].month <= 6 and not a.get("transport_heavy")]
    for a in rng.sample(cand, 2):
        a["overnight_heavy"] = True
        if "OVERNIGHT" not in a["needs"]:
            a["needs"].append("OVERNIGHT")

    base = []  # (date, provider, client-object, element, base quantity)
    dec31 = date(year, 12, 31)
    for c in adults + children:  # adults first: children copy their parent's shelter stay
        start = max(c["applied"], date(year, 1, 1))
        span = rng.randint(60, 300) if c["needs"] else rng.randint(7, 60)
        window = (start, min(dec31, start + timedelta(days=span)))
        for d, el, q in gen_deliveries(rng, c, window):
            assert units[el] != "" and el not in NOT_CLIENT
            base.append((d, c["provider"], c, el, q))
        # a need missed by chance is still "missed" only if nothing was delivered
        c["missed"] = set(c["needs"]) - {el for (_, _, cc, el, _) in base if cc is c}
        c["outcomes"] = outcomes_for(rng, c)

    # pseudonymous ids, in order of application
    people = adults + children + others
    order = sorted(range(len(people)), key=lambda i: (people[i]["applied"], people[i]["provider"], i))
    for n, i in enumerate(order, 1):
        people[i]["id"] = f"C{year % 100:02d}-{n:04d}"
    return people, base


def realise(base, factor, units):
    """Apply the calibration factor, merge same-day duplicates, sort; returns delivery lines."""
    merged = {}
    for d, prov, c, el, q in base:
        if el in SCALED:
            q = max(Decimal("0.1"), dec(q * factor))
        key = (d, prov, c["id"], el)
        merged[key] = merged.get(key, Decimal(0)) + q
    lines = []
    for (d, prov, cid, el), q in sorted(merged.items()):
        lines.append({"date": d, "provider": prov, "client": cid, "element": el, "quantity": q})
    return lines


def calibrate(base, target, tables, units):
    lo, hi = 2000, 40000  # factor in units of 1/10000
    for _ in range(40):
        if hi - lo <= 1:
            break
        mid = (lo + hi) // 2
        total = sum(value_lines(realise(base, Decimal(mid) / 10000, units), tables))
        if total < target:
            lo = mid
        else:
            hi = mid
    best = None
    for f in (lo, hi):
        lines = realise(base, Decimal(f) / 10000, units)
        total = sum(value_lines(lines, tables))
        if best is None or abs(total - target) < abs(best[1] - target):
            best = (Decimal(f) / 10000, total, lines)
    return best


# --------------------------------------------------------------------------------------------
# output


def fmt_q(q, unit):
    if unit == "eur":
        return f"{q.quantize(CENT):f}"
    s = f"{q.quantize(CENT).normalize():f}"
    return s


def main():
    units, tables = load_tables()
    clients_rows, delivery_rows = [], []
    report = []
    for year in sorted(YEARS):
        people, base = build_year(year, units)
        factor, total, lines = calibrate(base, YEARS[year][2], tables, units)
        amounts = value_lines(lines, tables)
        for c in people:
            clients_rows.append([
                c["id"], c["provider"], c["applied"].isoformat(), "yes" if c["assisted"] else "no",
                c["age"], c["parent"]["id"] if c["parent"] else "", "|".join(c["groups"]), c["status"],
                "yes" if c["coop"] else "no", "|".join(c["needs"]), "|".join(c["outcomes"]),
            ])
        for ln in lines:
            unit = units[ln["element"]]
            staff = ""
            if unit == "hour":
                staff = fmt_q(ln["quantity"], unit)
            elif unit == "session":
                staff = fmt_q(ln["quantity"] * SESSION_STAFF_HOURS[ln["element"]], "hour")
            delivery_rows.append([ln["date"].isoformat(), ln["provider"], ln["client"], ln["element"],
                                  fmt_q(ln["quantity"], unit), unit, staff, ""])
        report.append((year, people, lines, amounts, factor, total))

    clients_rows.sort(key=lambda r: r[0])
    delivery_rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    with open(HERE / "clients.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["client", "provider", "applied_on", "assisted", "age_band", "parent", "target_groups",
                    "victim_status", "cooperates", "needs", "outcomes"])
        w.writerows(clients_rows)
    with open(HERE / "deliveries.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["date", "provider", "client", "element", "quantity", "unit", "staff_hours", "note"])
        w.writerows(delivery_rows)

    # ---- report to stderr
    err = sys.stderr
    for year, people, lines, amounts, factor, total in report:
        assisted = [c for c in people if c["assisted"]]
        target = YEARS[year][2]
        kids = sum(c["age"] == "child" for c in assisted)
        adults = [c for c in assisted if c["age"] == "adult"]
        missed = sum(bool(c.get("missed")) for c in assisted)
        no_needs = sum(not c["needs"] for c in assisted)
        with_out = sum(bool(c["outcomes"]) for c in assisted)
        coop = sum(c["coop"] for c in adults)
        print(f"{year}: applicants {len(people)}, assisted {len(assisted)} (children {kids}), "
              f"deliveries {len(lines)}, valued total EUR {total:,.2f} "
              f"(target {target:,.0f}, {100 * (total - target) / target:+.2f}%), "
              f"per assisted client EUR {total / len(assisted):,.2f}, hour factor {factor}", file=err)
        print(f"      no assessment {no_needs}, some need missed {missed} "
              f"({100 * missed / len(assisted):.0f}%), with outcomes {with_out} "
              f"({100 * with_out / len(assisted):.0f}%), adults cooperating {coop}/{len(adults)}", file=err)
        for prov in PROVIDERS:
            pa = [c for c in assisted if c["provider"] == prov]
            pl = [(ln, a) for ln, a in zip(lines, amounts) if ln["provider"] == prov]
            pt = sum(a for _, a in pl)
            print(f"      {prov:13s} assisted {len(pa):4d}  deliveries {len(pl):5d}  "
                  f"total EUR {pt:>11,.2f}  per client EUR {pt / len(pa):>9,.2f}", file=err)
    used = {r[3] for r in delivery_rows}
    assert not used & NOT_CLIENT
    missing = set(units) - NOT_CLIENT - used
    assert not missing, f"client-level elements never delivered: {sorted(missing)}"
    groups = {g for r in clients_rows for g in r[6].split("|")}
    assert groups == set(TARGET_GROUPS), f"target groups unused: {set(TARGET_GROUPS) - groups}"
    print(f"wrote {HERE / 'clients.csv'} ({len(clients_rows)} rows) and "
          f"{HERE / 'deliveries.csv'} ({len(delivery_rows)} rows)", file=err)


if __name__ == "__main__":
    main()
