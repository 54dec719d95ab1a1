"""The password hasher of the test process (tests/conftest.py): Django's PBKDF2 with few
iterations. A user made by a test is hashed, and a test client's login is checked, in
milliseconds instead of most of a second each. The hashes it makes read `pbkdf2_sha256$1000$...`
and carry their iteration count, so the stack's web process, on production settings, still
checks them (and upgrades them to its own count on the first login, as after any upgrade of
Django)."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000
