"""The portal's pages, one module per audience: auth (everyone), lessee, devices, keys, console, technician."""
