// ServerStore — placeholder while the foundation lands.
