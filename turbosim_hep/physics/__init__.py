"""Physics reconstruction for validation: neutrino pz, chi^2 jet assignment, W/top/ttbar masses."""
