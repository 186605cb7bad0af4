"""Cross-cutting pieces: settings, database, errors, security, i18n."""
