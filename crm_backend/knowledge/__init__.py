"""Knowledge base: bilingual help articles, revisions, hybrid (lexical + e5) search, feedback."""
