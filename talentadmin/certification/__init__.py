"""Business licence (营业执照) OCR: image loading, OCR engines and field extraction."""
