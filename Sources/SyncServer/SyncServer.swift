// SyncServer — placeholder while the foundation lands.
