DROP TABLE smart_tokens;
DROP TABLE smart_codes;
DROP TABLE smart_launches;
DROP TABLE smart_approvals;
DROP TABLE smart_apps;
