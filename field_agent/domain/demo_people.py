"""Demo people: households of plausible make-up, names by surname frequency, valid ID numbers, phones."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta

from field_agent.domain import demo_data as words
from field_agent.domain.idnumber import make_id_number

_SURNAMES = [name for name, _ in words.SURNAMES]
_SURNAME_CUMULATIVE = list(itertools.accumulate(weight for _, weight in words.SURNAMES))

# Households by make-up: (kind, weight), tuned so that about a fifth of residents are 60 or older.
_HOUSEHOLD_KINDS = (
    ("old_single", 9),
    ("old_couple", 13),
    ("young_single", 9),
    ("young_couple", 9),
    ("nuclear", 34),
    ("three_generations", 24),
    ("away", 2),
    ("shared", 4),
)


@dataclass
class Person:
    """Someone the demo will record as a resident."""

    name: str
    sex: str
    birth: date
    residency: str = "resident"
    region: str = words.FUQING_REGION


class PeopleMaker:
    """Draws people, ID numbers and phones from one random stream."""

    def __init__(self, rng: random.Random, today: date, used_ids: set[str]) -> None:
        self.rng = rng
        self.today = today
        self.used_ids = used_ids

    def surname(self) -> str:
        return self.rng.choices(_SURNAMES, cum_weights=_SURNAME_CUMULATIVE)[0]

    def person(self, sex: str, age: int, surname: str | None = None, residency: str = "resident") -> Person:
        birth = self.today - timedelta(days=age * 365 + self.rng.randrange(365) + age // 4)
        birth = max(birth, date(1901, 1, 1))
        generation = "old" if birth.year < 1965 else "middle" if birth.year < 1995 else "young"
        chars = words.GIVEN_CHARS[(sex, generation)]
        given = "".join(self.rng.choice(chars) for _ in range(1 if self.rng.random() < 0.25 else 2))
        region = words.FUQING_REGION
        if residency == "floating":
            region = self.rng.choice(words.OTHER_REGIONS)
        return Person((surname or self.surname()) + given, sex, birth, residency, region)

    def id_number(self, person: Person) -> str:
        while True:
            number = make_id_number(person.region, person.birth, self.rng.randrange(500), person.sex)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def mobile(self) -> str:
        return self.rng.choice(words.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def family(self) -> list[Person]:
        kind = self.rng.choices(*zip(*_HOUSEHOLD_KINDS, strict=True))[0]
        rng, surname = self.rng, self.surname()
        if kind == "old_single":
            return [self.person(rng.choice(("male", "female", "female")), rng.randrange(62, 96))]
        if kind == "old_couple":
            age = rng.randrange(60, 90)
            return [self.person("male", age, surname), self.person("female", max(age - rng.randrange(0, 5), 58))]
        if kind in ("young_single", "shared"):
            count = 1 if kind == "young_single" else rng.randrange(2, 5)
            residency = "floating" if rng.random() < 0.6 else "resident"
            return [self.person(rng.choice(("male", "female")), rng.randrange(19, 40), None, residency)] + [
                self.person(rng.choice(("male", "female")), rng.randrange(19, 40), None, "floating")
                for _ in range(count - 1)
            ]
        if kind == "away":
            return [self.person(rng.choice(("male", "female")), rng.randrange(25, 60), None, "away")]
        age = rng.randrange(24, 48)
        residency = "floating" if rng.random() < 0.15 else "resident"
        people = [
            self.person("male", age, surname, residency),
            self.person("female", max(age - rng.randrange(-2, 5), 21), None, residency),
        ]
        if kind == "young_couple":
            return people
        for _ in range(rng.choice((1, 1, 2, 2, 2, 3)) if kind == "nuclear" else rng.choice((1, 2))):
            # about one child in ten is under three: roughly 3% of residents, as in a Fujian town today
            child_age = rng.randrange(0, 3) if rng.random() < 0.1 else rng.randrange(3, max(min(age - 20, 20), 4))
            child = self.person(rng.choice(("male", "female")), child_age, surname, residency)
            if child_age >= 18 and rng.random() < 0.3:
                child.residency = "away"
            people.append(child)
        if kind == "three_generations":
            grand_age = age + rng.randrange(24, 32)
            people.append(self.person("male", grand_age, surname, residency))
            if rng.random() < 0.8:
                people.append(self.person("female", grand_age - rng.randrange(0, 5), None, residency))
        return people[:6]
