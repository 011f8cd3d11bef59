"""xAPI statements as a real LRS export would spell them: the same meaning in another valid form.

`as_exported` rewrites a statement of the generator: timestamps with an offset, `stored` and
`authority`, contextActivities, language maps, an equivalent ISO 8601 duration, upper-case UUIDs,
an attachment, shuffled keys and escaped characters. Loaded, it must give the same raw columns.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _offset_timestamp(text: str, rng: random.Random) -> str:
    instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    zone = dt.timezone(dt.timedelta(minutes=rng.choice([-300, -180, 60, 330, 600])))
    return instant.astimezone(zone).isoformat(timespec="milliseconds")


def _same_duration(text: str, rng: random.Random) -> str:
    """PT0H10M12S as PT612S, PT10M12S or P0DT10M12S."""
    match = _DURATION.match(text)
    if not match:
        return text
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    whole = int(total) == total
    if rng.random() < 0.5:
        return f"PT{int(total)}S" if whole else f"PT{total}S"
    m, s = divmod(total, 60)
    s_text = f"{int(s)}" if whole else f"{s}"
    return f"P0DT{int(m)}M{s_text}S" if rng.random() < 0.5 else f"PT{int(m)}M{s_text}S"


def _upper_uuids(value):
    if isinstance(value, dict):
        return {k: _upper_uuids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_upper_uuids(v) for v in value]
    if isinstance(value, str) and _UUID.match(value):
        return value.upper()
    return value


def _shuffled(value, rng: random.Random):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


def as_exported(statement: dict, rng: random.Random) -> str:
    """The statement, same meaning, as one JSON line an LRS could have exported."""
    s = json.loads(json.dumps(statement))
    s["timestamp"] = _offset_timestamp(s["timestamp"], rng)
    s["stored"] = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    s["authority"] = {"objectType": "Agent", "mbox": "mailto:lrs-admin@cohortlens.example"}
    s["verb"]["display"] = {"en-US": s["verb"]["id"].rsplit("/", 1)[-1], "fr-FR": "fait"}
    definition = s["object"].setdefault("definition", {})
    definition["name"] = {"en-US": "Activité ✓", "de-DE": "Aktivität"}
    context = s.setdefault("context", {})
    context["contextActivities"] = {
        "parent": [{"objectType": "Activity", "id": "https://cohortlens.example/xapi/course"}],
        "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}],
    }
    if "result" in s and "duration" in s["result"]:
        s["result"]["duration"] = _same_duration(s["result"]["duration"], rng)
    if rng.random() < 0.1:
        s["attachments"] = [
            {
                "usageType": "http://adlnet.gov/expapi/attachments/signature",
                "display": {"en-US": "signature"},
                "contentType": "application/octet-stream",
                "length": 4235,
                "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
                "fileUrl": "https://files.cohortlens.example/sig.bin",
            }
        ]
    s = _shuffled(_upper_uuids(s), rng)
    # ASCII only, and every slash escaped: the same strings to a JSON parser.
    return json.dumps(s, ensure_ascii=True).replace("/", "\\/")
