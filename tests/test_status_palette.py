"""The five status colours, read from the stylesheets, stay apart for people with the two
common colour-vision deficiencies: protanopia and deuteranopia (about 1 man in 12 has one of
them, or their milder forms), simulated with Machado, Oliveira and Fernandes (2009) at full
severity, on the light theme (dash.css) and the wall's dark theme (wall.css). Distances are
CIEDE2000 (docs/accessibility.md has the numbers and why the thresholds)."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATUSES = ("online", "busy", "away", "offline", "unknown")
COLOURED = ("online", "busy", "away")
# offline and unknown are both grey by contract (CONTRACT.md "Words"): filled grey with a
# cross against a hollow ring with "?"; their shapes and words tell them apart, not hue.
GREYS = ("offline", "unknown")

# CIEDE2000 of 1 is a just noticeable difference for large patches side by side and 2-3 a
# usual "same colour" tolerance; 10 is a difference nobody misses between two dots, though
# not one to read a status from alone, which the dots never ask (each has its own shape and
# word, tests/browser/test_presence_cards.py). Lowest today: 10.6 (light theme, online and
# busy for a deuteranope), so a change that brings two statuses closer fails here.
MIN_APART = 10.0
# Each colour against the greys of offline and unknown: a coloured dot must not look grey.
MIN_FROM_GREY = 10.0
# The two greys still differ in lightness (their shapes carry the meaning).
MIN_GREYS = 5.0

# Machado et al. 2009, severity 1.0, on linear RGB.
MACHADO = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
}
VISION = ("normal", *MACHADO)

Rgb = tuple[float, float, float]


def theme_colours(css_file: str) -> dict[str, str]:
    """The --<status> custom properties of the stylesheet's first block that sets them."""
    text = (ROOT / "static" / "css" / css_file).read_text(encoding="utf-8")
    found = {}
    for status in STATUSES:
        match = re.search(rf"--{status}:\s*(#[0-9a-fA-F]{{6}})\s*;", text)
        assert match, f"{css_file} sets no --{status}"
        found[status] = match.group(1)
    return found


def _to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def linear_rgb(hex_colour: str) -> Rgb:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return (_to_linear(r), _to_linear(g), _to_linear(b))


def simulate(rgb: Rgb, vision: str) -> Rgb:
    if vision == "normal":
        return rgb
    out = tuple(sum(m * c for m, c in zip(row, rgb, strict=True)) for row in MACHADO[vision])
    return tuple(min(1.0, max(0.0, c)) for c in out)  # type: ignore[return-value]


def lab(rgb: Rgb) -> Rgb:
    """CIE L*a*b* (D65) of a linear sRGB colour."""
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))


def ciede2000(lab1: Rgb, lab2: Rgb) -> float:
    """CIEDE2000 colour difference (Sharma, Wu and Dalal 2005), kL = kC = kH = 1."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dlp, dcp = l2 - l1, c2p - c1p
    dhp = 0.0
    if c1p * c2p:
        dhp = h2p - h1p
        if dhp > 180:
            dhp -= 360
        elif dhp < -180:
            dhp += 360
    dhp_big = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp) / 2)
    lbp, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    hbp = h1p + h2p
    if c1p * c2p:
        if abs(h1p - h2p) > 180:
            hbp += 360 if hbp < 360 else -360
        hbp /= 2
    t = (
        1
        - 0.17 * math.cos(math.radians(hbp - 30))
        + 0.24 * math.cos(math.radians(2 * hbp))
        + 0.32 * math.cos(math.radians(3 * hbp + 6))
        - 0.20 * math.cos(math.radians(4 * hbp - 63))
    )
    d_theta = 30 * math.exp(-(((hbp - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cbp**7 / (cbp**7 + 25**7))
    sl = 1 + 0.015 * (lbp - 50) ** 2 / math.sqrt(20 + (lbp - 50) ** 2)
    sc = 1 + 0.045 * cbp
    sh = 1 + 0.015 * cbp * t
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt(
        (dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp_big / sh) ** 2 + rt * (dcp / sc) * (dhp_big / sh)
    )


def distances(css_file: str, vision: str) -> dict[tuple[str, str], float]:
    colours = {s: lab(simulate(linear_rgb(h), vision)) for s, h in theme_colours(css_file).items()}
    return {
        (a, b): ciede2000(colours[a], colours[b]) for a, b in itertools.combinations(STATUSES, 2)
    }


def test_ciede2000_matches_sharmas_published_pairs() -> None:
    # Sharma, Wu and Dalal (2005), table 1, pairs 1, 7 and 17.
    assert ciede2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert ciede2000((50, 0, 0), (50, -1, 2)) == pytest.approx(2.3669, abs=1e-4)
    assert ciede2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


def test_simulation_merges_red_and_green_for_a_deuteranope() -> None:
    """The check can fail: pure red and green, far apart normally, come close."""
    red, green = linear_rgb("#ff0000"), linear_rgb("#00ff00")
    normal = ciede2000(lab(red), lab(green))
    seen = ciede2000(lab(simulate(red, "deuteranopia")), lab(simulate(green, "deuteranopia")))
    assert normal > 80 and seen < normal / 2, (normal, seen)


@pytest.mark.parametrize("vision", VISION)
@pytest.mark.parametrize("css_file", ["dash.css", "wall.css"])
def test_status_colours_stay_apart(css_file: str, vision: str) -> None:
    apart = distances(css_file, vision)
    for (a, b), delta in apart.items():
        if a in GREYS and b in GREYS:
            assert delta >= MIN_GREYS, (css_file, vision, a, b, round(delta, 1))
        elif a in GREYS or b in GREYS:
            assert delta >= MIN_FROM_GREY, (css_file, vision, a, b, round(delta, 1))
        else:
            assert delta >= MIN_APART, (css_file, vision, a, b, round(delta, 1))


if __name__ == "__main__":  # the table in docs/accessibility.md
    for css in ("dash.css", "wall.css"):
        for vision in VISION:
            row = distances(css, vision)
            print(css, vision, {f"{a}/{b}": round(d, 1) for (a, b), d in row.items()})
