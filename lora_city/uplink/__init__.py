"""The uplink pipeline: dedup -> join or data (session, FCnt, MIC, replay, decrypt, MAC, quota) -> codec -> sinks."""
