"""Evidence packs: the scope, its members, the deterministic ZIP writer and the verifier."""
