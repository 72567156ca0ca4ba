"""Prompt sets and reclists, the kana ↔ romaji ↔ phoneme table, and G2P for Japanese and English."""
