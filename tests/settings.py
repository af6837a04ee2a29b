"""Settings for the test suite: the production module with a throwaway key and plain HTTP
(the test client and the browser tests' live server speak HTTP)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ["ANNOTATOR_HTTPS"] = "0"
os.environ.setdefault("ANNOTATOR_PLAIN_STATIC", "1")

from annotator.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
