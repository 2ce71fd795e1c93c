"""DrugTrace collector: runs at the county medical-insurance bureau."""
