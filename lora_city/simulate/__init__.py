"""Fleet simulation: virtual gateways (and, later, virtual devices) that speak the real protocols."""
