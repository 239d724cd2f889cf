//! BERT-family sentence encoders (all-MiniLM-L6-v2, bge-small, e5-small).
