"""Planning: the static arena (offsets of every activation tensor and scratch buffer)."""
