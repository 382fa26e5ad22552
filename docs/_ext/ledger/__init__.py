"""The claims ledger: the article's claims, the evidence that judges them, the rules.

``claims`` holds the records (each claim's words, where the article makes it, and the
verdict we expect), ``evidence`` one function per claim that computes plain values,
``labels`` the words each value is shown with, ``rules`` one predicate per claim from
those values to a verdict, and ``judge`` puts them together. Nothing here imports
Sphinx: ``docs/_ext/claims_ledger.py`` renders the result on the site, and
``judge.verdicts()`` gives the verdicts to anyone else (the torch-version matrix).
"""
