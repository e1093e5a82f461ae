"""aica.analysis.profiles: validation on save, JSON round trip, the shipped profiles."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from aica.analysis import BUILTIN, Criterion, Profile, Window, parse_profile, profile_to_json
from aica.errors import BadInput


def minimal() -> dict[str, Any]:
    return {
        "key": "support",
        "name": "Support",
        "categories": [
            {
                "key": "greeting",
                "name": "Greeting",
                "criteria": [
                    {"key": "greet", "description": "Greet", "kind": "phrase", "phrases": ["hi"]}
                ],
            },
            {
                "key": "problemResolution",
                "name": "Resolution",
                "weight": 2,
                "criteria": [
                    {
                        "key": "order_number",
                        "description": "Ask for the order number",
                        "kind": "regex",
                        "pattern": r"order (number|#)",
                    },
                    {
                        "key": "pace",
                        "description": "Measured pace",
                        "kind": "metric",
                        "metric": "agent_wpm",
                        "operator": "lte",
                        "threshold": 170,
                    },
                ],
            },
        ],
    }


def test_defaults_are_filled_in_and_written_back_in_full() -> None:
    profile = parse_profile(minimal())
    greet = profile.categories[0].criteria[0]
    assert greet == Criterion(
        key="greet",
        description="Greet",
        kind="phrase",
        phrases={"*": ("hi",)},
        speaker="agent",
        window=None,
        compliance=False,
        forbidden=False,
        weight=1.0,
    )
    assert profile.categories[0].weight == 1.0
    assert profile.categories[1].criteria[1].speaker == "any"  # a metric names its own side
    assert profile.description == ""

    stored = profile_to_json(profile)
    assert stored["categories"][0]["criteria"][0] == {
        "key": "greet",
        "description": "Greet",
        "kind": "phrase",
        "phrases": ["hi"],
        "speaker": "agent",
        "window": None,
        "compliance": False,
        "forbidden": False,
        "weight": 1,
    }
    assert stored["categories"][1]["criteria"][1] == {
        "key": "pace",
        "description": "Measured pace",
        "kind": "metric",
        "metric": "agent_wpm",
        "operator": "lte",
        "threshold": 170,
        "speaker": "any",
        "window": None,
        "compliance": False,
        "forbidden": False,
        "weight": 1,
    }
    assert parse_profile(json.loads(json.dumps(stored))) == profile


def test_per_language_phrases_and_windows_round_trip() -> None:
    data = minimal()
    data["categories"][0]["criteria"][0].update(
        phrases={"ru": ["  Добрый   день "], "en": ["good morning", "good morning"]},
        window={"position": "first", "seconds": 12.5},
        speaker="any",
        compliance=True,
    )
    profile = parse_profile(data)
    greet = profile.categories[0].criteria[0]
    # whitespace tidied, duplicates dropped, languages in order
    assert greet.phrases == {"en": ("good morning",), "ru": ("Добрый день",)}
    assert greet.window == Window("first", 12.5)
    assert greet.phrases_for("ru") == ("Добрый день",)
    assert greet.phrases_for("de") == ("good morning", "Добрый день")  # no set: all of them
    stored = profile_to_json(profile)
    assert stored["categories"][0]["criteria"][0]["phrases"] == {
        "en": ["good morning"],
        "ru": ["Добрый день"],
    }
    assert stored["categories"][0]["criteria"][0]["window"] == {
        "position": "first",
        "seconds": 12.5,
    }
    assert parse_profile(stored) == profile


def _set(data: dict[str, Any], path: list[Any], value: Any) -> None:
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()
CRIT = ["categories", 1, "criteria", 0]
METRIC = ["categories", 1, "criteria", 1]
PHRASE = ["categories", 0, "criteria", 0]


@pytest.mark.parametrize(
    ("where", "value", "field", "message"),
    [
        ([*CRIT, "kind"], "keyword", "categories[1].criteria[0].kind", "must be one of phrase"),
        (
            [*CRIT, "pattern"],
            "order (number",
            "categories[1].criteria[0].pattern",
            "invalid regex: missing ), unterminated subpattern",
        ),
        ([*CRIT, "pattern"], r"(a)x\1", "categories[1].criteria[0].pattern", "backreferences"),
        ([*CRIT, "pattern"], r"(?<!не )хорошо", "categories[1].criteria[0].pattern", "lookahead"),
        ([*CRIT, "pattern"], "x" * 301, "categories[1].criteria[0].pattern", "at most 300"),
        (["categories"], [], "categories", "must hold at least 1 category"),
        (
            ["categories", 0, "criteria"],
            [],
            "categories[0].criteria",
            "must hold at least 1 criterion",
        ),
        (["categories", 1, "weight"], 0, "categories[1].weight", "must be greater than 0"),
        ([*CRIT, "weight"], -1, "categories[1].criteria[0].weight", "must be greater than 0"),
        ([*CRIT, "weight"], True, "categories[1].criteria[0].weight", "must be a number"),
        (
            [*PHRASE, "window"],
            {"position": "first", "seconds": 0},
            "categories[0].criteria[0].window.seconds",
            "must be greater than 0",
        ),
        (
            [*PHRASE, "window"],
            {"position": "middle", "seconds": 5},
            "categories[0].criteria[0].window.position",
            "must be one of first, last",
        ),
        ([*PHRASE, "phrases"], _DELETE, "categories[0].criteria[0].phrases", "is required"),
        ([*PHRASE, "phrases"], [], "categories[0].criteria[0].phrases", "at least 1 phrase"),
        ([*PHRASE, "phrases"], ["ok", "?!"], "categories[0].criteria[0].phrases[1]", "no words"),
        (
            [*PHRASE, "phrases"],
            {"english": ["hi"]},
            "categories[0].criteria[0].phrases.english",
            "language code",
        ),
        ([*PHRASE, "pattern"], "hi", "categories[0].criteria[0].pattern", "only applies to regex"),
        ([*METRIC, "metric"], "sentiment", "categories[1].criteria[1].metric", "must be one of"),
        ([*METRIC, "operator"], "eq", "categories[1].criteria[1].operator", "lt, lte, gt, gte"),
        ([*METRIC, "threshold"], _DELETE, "categories[1].criteria[1].threshold", "is required"),
        ([*METRIC, "speaker"], "agent", "categories[1].criteria[1].speaker", "set it to any"),
        ([*METRIC, "forbidden"], True, "categories[1].criteria[1].forbidden", "does not apply"),
        ([*CRIT, "speaker"], "robot", "categories[1].criteria[0].speaker", "agent, customer, any"),
        ([*CRIT, "patern"], "x", "categories[1].criteria[0].patern", "unknown field"),
        (["categories", 1, "key"], "problem_resolution", "categories[1].key", "camelCase"),
        (["categories", 1, "key"], "greeting", "categories[1].key", "duplicate category key"),
        ([*CRIT, "key"], "greet", "categories[1].criteria[0].key", "duplicate criterion key"),
        ([*CRIT, "description"], " ", "categories[1].criteria[0].description", "not be empty"),
        (["key"], "Has Spaces", "key", "is not a profile key"),
        (["name"], _DELETE, "name", "is required"),
    ],
)
def test_invalid_profiles_are_refused_naming_the_place(
    where: list[Any], value: Any, field: str, message: str
) -> None:
    data = copy.deepcopy(minimal())
    _set(data, where, value)
    with pytest.raises(BadInput) as caught:
        parse_profile(data)
    assert caught.value.extensions == {"code": "BAD_USER_INPUT", "field": field}
    assert caught.value.message.startswith(f"{field}: "), caught.value.message
    assert message in caught.value.message


def test_a_ratio_threshold_must_be_a_fraction() -> None:
    data = minimal()
    data["categories"][1]["criteria"][1].update(metric="talk_ratio", threshold=65)
    with pytest.raises(BadInput, match=r"criteria\[1\]\.threshold: must be at most 1, not 65"):
        parse_profile(data)


def test_too_many_categories_are_refused() -> None:
    data = minimal()
    one = data["categories"][0]
    data["categories"] = [{**one, "key": f"c{i}"} for i in range(21)]
    with pytest.raises(BadInput, match="categories: must hold at most 20 categories, not 21"):
        parse_profile(data)


def test_a_profile_holds_a_bounded_number_of_phrases() -> None:
    data = minimal()
    criteria = [
        {
            "key": f"c{i}",
            "description": "x",
            "kind": "phrase",
            "phrases": [f"p{i} {k}" for k in range(200)],
        }
        for i in range(26)
    ]
    data["categories"][0]["criteria"] = criteria
    with pytest.raises(BadInput) as caught:
        parse_profile(data)
    assert caught.value.extensions["field"] == "categories[0].criteria[25].phrases"
    assert "at most 5000 phrases" in caught.value.message


def test_not_an_object_is_refused() -> None:
    with pytest.raises(BadInput, match="profile: must be an object, not a list"):
        parse_profile([])  # type: ignore[arg-type]


def test_builtin_profiles_are_valid_and_round_trip() -> None:
    assert sorted(BUILTIN) == ["collections", "general", "sales"]
    for key, profile in BUILTIN.items():
        assert isinstance(profile, Profile)
        assert profile.key == key
        stored = json.loads(json.dumps(profile_to_json(profile), ensure_ascii=False))
        assert parse_profile(stored) == profile


def test_the_general_profile_has_exactly_the_seed_categories() -> None:
    general = BUILTIN["general"]
    assert [c.key for c in general.categories] == [
        "greeting",
        "problemResolution",
        "professionalism",
        "closing",
    ]
    criteria = {c.key: c for cat in general.categories for c in cat.criteria}
    assert criteria["courteous"].forbidden and criteria["courteous"].compliance
    assert {c.metric for c in criteria.values() if c.kind == "metric"} >= {"agent_wpm", "overtalk"}


def test_every_builtin_phrase_criterion_speaks_english_and_russian() -> None:
    for profile in BUILTIN.values():
        for category in profile.categories:
            for criterion in category.criteria:
                if criterion.kind == "phrase":
                    assert set(criterion.phrases or {}) == {"en", "ru"}, criterion.key


def test_the_collections_profile_checks_the_disclosure_threats_and_payment() -> None:
    collections = BUILTIN["collections"]
    criteria = {c.key: c for cat in collections.categories for c in cat.criteria}
    disclosure = criteria["mini_miranda"]
    assert disclosure.compliance and disclosure.window == Window("first", 60)
    assert "this is an attempt to collect a debt" in disclosure.phrases_for("en")
    assert criteria["no_threats"].forbidden and criteria["no_threats"].compliance
    assert "paymentArrangement" in [c.key for c in collections.categories]


def test_the_sales_profile_covers_discovery_offer_objections_and_the_ask() -> None:
    sales = BUILTIN["sales"]
    assert [c.key for c in sales.categories] == [
        "opening",
        "discovery",
        "offer",
        "objectionHandling",
        "closing",
        "conduct",
    ]
    criteria = {c.key: c for cat in sales.categories for c in cat.criteria}
    assert criteria["listen"].metric == "talk_ratio"
    assert "would you like to go ahead" in criteria["ask_for_order"].phrases_for("en")
    assert "давайте оформим" in criteria["ask_for_order"].phrases_for("ru")
