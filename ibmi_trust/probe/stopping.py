"""The stopping rule: how many handshakes make a rare chain unlikely to be missed.

If a chain is served on a share p of connections and handshakes are
independent, n handshakes all miss it with probability (1 - p)^n. So
n >= ln(1 - confidence) / ln(1 - min_share) handshakes find every chain with
p >= min_share with probability >= confidence (59 for 5% / 95%).

The n handshakes are spread evenly over the address x SNI x key-type
combinations, in whole rounds (one handshake per combination per round). For
a chain whose share differs per combination (p_c), the miss probability is
prod_c (1 - p_c)^r <= (1 - mean p_c)^(r * C) (AM-GM): even rounds keep the
pooled guarantee for the pooled share, and every combination is tried
ceil(n / C) >= 1 times.
"""
import math


def handshakes_needed(min_share: float, confidence: float) -> int:
    if not (0.0 < min_share < 1.0 and 0.0 < confidence < 1.0):
        raise ValueError("min_share and confidence must lie strictly between 0 and 1")
    return max(1, math.ceil(math.log(1.0 - confidence) / math.log(1.0 - min_share) - 1e-9))


def rounds_needed(handshakes: int, combinations: int) -> int:
    return max(1, math.ceil(handshakes / max(1, combinations)))


def confidence_reached(handshakes: int, min_share: float) -> float:
    """P(a chain with share >= min_share shows up at least once in `handshakes`)."""
    if handshakes <= 0:
        return 0.0
    return 1.0 - (1.0 - min_share) ** handshakes


def guarantee(handshakes: int, min_share: float, confidence: float) -> dict:
    """What `handshakes` successful handshakes guarantee (the JSON "guarantee" object's core)."""
    probability = confidence_reached(handshakes, min_share)
    return {
        "min_share": min_share,
        "confidence": confidence,
        "probability": probability,
        "handshakes": handshakes,
        "handshakes_needed": handshakes_needed(min_share, confidence),
        "met": probability >= confidence,
        "statement": statement(min_share, probability),
    }


def statement(min_share: float, probability: float) -> str:
    shown = math.floor(probability * 1000.0) / 10.0          # never round a guarantee up
    return ("a chain served on >= %g%% of connections would have been seen with probability >= %.1f%%"
            % (round(100.0 * min_share, 4), shown))
