"""The viewer's side of OME: LL-HLS and WebRTC playback, conformance, media truth and latency."""
