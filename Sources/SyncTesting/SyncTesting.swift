// SyncTesting — placeholder while the foundation lands.
