// SyncCore — see DESIGN.md §2 for what this module holds. Its content arrives with the issue that builds it;
// until then the target exists so that the module graph is in place from the first commit.
