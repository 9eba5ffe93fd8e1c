"""The names whose values are secrets, in one place for every redactor (issue 12).

Read by the log filter (config/logging.py), gunicorn's logger (config/access_log.py), the HTTP
seam's request logging (connector/http.py) and the audit trail (connector/sync/audit.py). A name
added here is masked everywhere at once. Lower case; callers compare case-insensitively.
"""

from __future__ import annotations

# A key whose value is a secret wherever it appears: a form field, a JSON body, a query string.
SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "authorization_code",
        "authorization",
        "password",
        "passwd",
        "secret",
        "api_key",
        "apikey",
        "token",
        "sessionid",
        "csrftoken",
        "csrfmiddlewaretoken",
    }
)

# The QuickBooks OAuth callback's "?code=…&state=…". Elsewhere "code" is a Procurify account code
# ("6550") or a QuickBooks error code ("6140") and "state" a record's state, which people must see:
# outside a query string these are masked only when the value is shaped like a credential.
OAUTH_WORD_KEYS = frozenset({"code", "state"})
CREDENTIAL_MIN_LENGTH = 20

# Pre-signed download links (invoice files): whoever holds the signature can fetch the file.
SIGNED_URL_KEYS = frozenset(
    {"signature", "sig", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature"}
)

# Query-string keys whose value is always masked.
QUERY_SECRET_KEYS = SECRET_KEYS | OAUTH_WORD_KEYS | SIGNED_URL_KEYS

# Request and response headers that carry credentials.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-csrftoken"})
