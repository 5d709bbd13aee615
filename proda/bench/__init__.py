"""The Tester's logic: benchmark items from L3 chains (``items``: stems, the three distractor
operators, the split) and the per-chain units bench memoises (``units``)."""
