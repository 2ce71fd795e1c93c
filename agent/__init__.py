"""DrugTrace agent: runs at the pharmacy counter (POS PC or Raspberry Pi)."""
