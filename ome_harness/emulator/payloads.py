"""JSON payloads shaped exactly like a real OME v0.20.0's (see ../shared/samples/)."""

from __future__ import annotations

import copy
from typing import Any

from ome_harness.emulator.state import AudioSpec, EmulatedStream, VideoSpec, ome_time
from ome_harness.ome.versions import OmeVersion

V0_21_0 = OmeVersion(0, 21, 0)

# The default `app` of OME's example Origin config, as `GET /v1/vhosts/default/apps/app` shows it.
DEFAULT_APP_CONFIG: dict[str, Any] = {
    "dynamic": False,
    "outputProfiles": {
        "decodes": {"onlyKeyframes": "false", "threadCount": "2"},
        "hwaccels": {"decoder": {"enable": "false"}, "encoder": {"enable": "false"}},
        "outputProfile": [
            {
                "encodes": {
                    "audios": [
                        {
                            "bitrate": "128000",
                            "bypassIfMatch": {"codec": "eq"},
                            "channel": "2",
                            "codec": "aac",
                            "name": "aac_audio",
                            "samplerate": "48000",
                        },
                        {
                            "bitrate": "128000",
                            "bypassIfMatch": {"codec": "eq"},
                            "channel": "2",
                            "codec": "opus",
                            "name": "opus_audio",
                            "samplerate": "48000",
                        },
                    ],
                    "videos": [{"bypass": "true", "name": "bypass_video"}],
                },
                "name": "bypass_stream",
                "outputStreamName": "${OriginStreamName}",
                "playlists": [
                    {
                        "fileName": "master",
                        "name": "default",
                        "options": {
                            "enableTsPackaging": "true",
                            "hLSChunklistPathDepth": "0",
                            "webRtcAutoAbr": "true",
                        },
                        "rendition_templates": [
                            {
                                "audio_template": {"encoding_type": "all"},
                                "name": "${Height}p",
                                "video_template": {"encoding_type": "all"},
                            }
                        ],
                    }
                ],
            }
        ],
    },
    "providers": {
        "mpegts": {"streams": [{"name": "stream_4000", "port": "4000/udp"}]},
        "ovt": {},
        "rtmp": {},
        "rtspPull": {},
        "schedule": {"mediaRootDir": "/tmp/ome/media", "scheduleFilesDir": "/tmp/ome/media"},
        "srt": {},
        "webrtc": {"crossDomains": {"urls": ["*"]}, "timeout": "30000"},
    },
    "publishers": {
        "appWorkerCount": "1",
        "hls": {
            "createDefaultPlaylist": "true",
            "crossDomains": {"urls": ["*"]},
            "segmentCount": "4",
            "segmentDuration": "4",
        },
        "llhls": {
            "chunkDuration": "0.5",
            "createDefaultPlaylist": "true",
            "crossDomains": {"urls": ["*"]},
            "dRM": {"enable": "false", "infoFile": "path/to/file.xml"},
            "dVR": {"enable": "false", "maxDuration": "3600", "tempStoragePath": "/tmp/ome/dvr/"},
            "partHoldBack": "1.5",
            "segmentCount": "10",
            "segmentDuration": "6",
        },
        "ovt": {},
        "streamWorkerCount": "8",
        "webrtc": {
            "createDefaultPlaylist": "true",
            "jitterBuffer": "false",
            "rtx": "false",
            "timeout": "30000",
            "ulpfec": "false",
        },
    },
    "type": "live",
}


def app_config(name: str, *, action: bool = False, llhls_segment_s: float = 6.0,
               llhls_part_s: float = 0.5) -> dict[str, Any]:
    config = copy.deepcopy(DEFAULT_APP_CONFIG)
    config["name"] = name
    # OME reports the LL-HLS settings the packager works with (strings, like every value here).
    llhls = config["publishers"]["llhls"]
    llhls["segmentDuration"], llhls["chunkDuration"] = f"{llhls_segment_s:g}", f"{llhls_part_s:g}"
    if action:
        # `GET .../apps/app:` (an empty action) answers the raw config: no `dynamic`, unexpanded macros.
        config.pop("dynamic")
        config["providers"]["mpegts"]["streams"] = [{"name": "stream_${Port}", "port": "4000"}]
    return config


def _reported_height(height: int) -> int:
    # OME aligns heights to 16-pixel multiples in its reports: 360 shows as 352.
    return height - height % 16


def _video(spec: VideoSpec, *, bypass: bool, srt: bool = False) -> dict[str, Any]:
    # An SRT input reports the height as sent and framerateConf 0.0 (v0.2x.0-media/srt_detail_*);
    # the RTMP captures (31_stream) show the 16-pixel-aligned height and framerateConf = framerate.
    height = spec.height if srt else _reported_height(spec.height)
    return {
        "bitrate": spec.bitrate,
        "bitrateAvg": spec.bitrate,
        "bitrateConf": 0,
        "bitrateLatest": spec.bitrate,
        "bypass": bypass,
        "codec": spec.codec,
        "deltaFramesSinceLastKeyFrame": 0,
        "framerate": spec.framerate,
        "framerateAvg": spec.framerate,
        "framerateConf": 0.0 if srt else spec.framerate,
        "framerateLatest": spec.framerate,
        "hasBframes": spec.has_bframes,
        "height": height,
        "keyFrameInterval": spec.key_frame_interval,
        "keyFrameIntervalAvg": spec.key_frame_interval,
        "keyFrameIntervalConf": 0.0,
        "keyFrameIntervalLatest": spec.key_frame_interval,
        "width": spec.width,
    }


def _audio(spec: AudioSpec, *, bypass: bool, codec: str | None = None, bitrate: int | None = None,
           channel: int | None = None, samplerate: int | None = None,
           declared: bool = True) -> dict[str, Any]:
    # bitrateConf is what the publisher declared: RTMP's onMetaData does, MPEG-TS over SRT does not
    # (0 in 37_stream_srt's input audio track).
    rate = bitrate or spec.bitrate
    return {
        "bitrate": rate, "bitrateAvg": rate, "bitrateConf": rate if declared else 0, "bitrateLatest": rate,
        "bypass": bypass,
        "channel": channel or spec.channel, "codec": codec or spec.codec,
        "samplerate": samplerate or spec.samplerate,
    }


def _is_mpegts(stream: EmulatedStream) -> bool:
    return stream.source_type.upper() in ("SRT", "MPEGTS")


def _input_tracks(stream: EmulatedStream) -> list[dict[str, Any]]:
    # SRT/MPEG-TS inputs are numbered by PID (Data first); RTMP inputs 0, 1, 2.
    srt = _is_mpegts(stream)
    tracks: list[dict[str, Any]] = []
    if srt:
        tracks.append({"id": 1, "name": "Data", "type": "Data"})
    if stream.video:
        tracks.append({"id": 256 if srt else 0, "name": "Video", "type": "Video",
                       "video": _video(stream.video, bypass=False, srt=srt)})
    if stream.audio:
        tracks.append({"audio": _audio(stream.audio, bypass=False, declared=not srt), "id": 257 if srt else 1,
                       "name": "Audio", "type": "Audio"})
    if not srt:
        tracks.append({"id": len(tracks), "name": "Data", "type": "Data"})
    return tracks


def _output_tracks(stream: EmulatedStream) -> list[dict[str, Any]]:
    # Output tracks follow the input's order: an MPEG-TS input lists its Data track first.
    srt = _is_mpegts(stream)
    tracks: list[dict[str, Any]] = [{"id": 0, "name": "Data", "type": "Data"}] if srt else []
    if stream.video:
        tracks.append({"id": len(tracks), "name": "bypass_video", "type": "Video",
                       "video": _video(stream.video, bypass=True, srt=srt)})
    if stream.audio:
        tracks.append({"audio": _audio(stream.audio, bypass=True, bitrate=128_000), "id": len(tracks),
                       "name": "aac_audio", "type": "Audio"})
        tracks.append({"audio": _audio(stream.audio, bypass=False, codec="OPUS", bitrate=128_000, channel=2,
                                       samplerate=48_000), "id": len(tracks), "name": "opus_audio",
                       "type": "Audio"})
    if not srt:
        tracks.append({"id": len(tracks), "name": "Data", "type": "Data"})
    return tracks


def _relayed_tracks(stream: EmulatedStream) -> list[dict[str, Any]]:
    # An edge's input is the origin's outputs as relayed, none marked bypass, outputs `[]`
    # (v0.20.0-media/edge/edge_stream_detail_after_pull.http: bypass_video, aac_audio, opus_audio, Data).
    # The edge reports the height as sent (360, not the origin's 352).
    tracks = _output_tracks(stream)
    for track in tracks:
        for kind in ("video", "audio"):
            if kind in track:
                track[kind]["bypass"] = False
        if "video" in track and stream.video:
            track["video"]["height"] = stream.video.height
    return tracks


def _playlists(height: int, *, srt: bool) -> list[dict[str, Any]]:
    # The rendition label follows the reported height (352p in 36/37_*, 360p in srt_detail_after_6s).
    label = f"{height if srt else _reported_height(height)}p"

    def options(ts: bool, depth: int, abr: bool) -> dict[str, Any]:
        return {"enableTsPackaging": ts, "hlsChunklistPathDepth": depth, "webrtcAutoAbr": abr}

    return [
        {
            "fileName": "llhls",
            "name": "llhls_default",
            "options": options(False, -1, False),
            "renditions": [
                {"audioVariantName": "aac_audio", "name": "default", "videoVariantName": "bypass_video"}
            ],
        },
        {
            "fileName": "master",
            "name": "default",
            "options": options(True, 0, True),
            "renditions": [
                {"audioVariantName": "aac_audio", "name": label, "videoVariantName": "bypass_video"},
                {"audioVariantName": "opus_audio", "name": f"{label}_1", "videoVariantName": "bypass_video"},
            ],
        },
        {
            "fileName": "webrtc_default",
            "name": "webrtc_default",
            "options": options(False, -1, False),
            "renditions": [
                {"audioVariantName": "opus_audio", "name": "default", "videoVariantName": "bypass_video"}
            ],
        },
    ]


def stream_detail(stream: EmulatedStream, version: OmeVersion) -> dict[str, Any]:
    height = stream.video.height if stream.video else 0
    srt = _is_mpegts(stream)
    # An SRT input's outputs are `[]` for its first seconds (srt_detail_at_first_listing, _after_1s).
    outputs = [
        {"name": stream.name, "playlists": _playlists(height, srt=srt), "tracks": _output_tracks(stream)}
    ]
    detail = {
        "input": {"createdTime": ome_time(stream.created), "sourceType": stream.source_type,
                  "sourceUrl": stream.source_url,
                  "tracks": _relayed_tracks(stream) if stream.relayed else _input_tracks(stream)},
        "name": stream.name,
        "outputs": outputs if stream.outputs_ready and not stream.relayed else [],
    }
    if version >= V0_21_0:
        _add_v021_track_fields(detail)
    return detail


def _add_v021_track_fields(detail: dict[str, Any]) -> None:
    # OME's OpenAPI v0.21.0 requires max* limits on video tracks and a `data` object on data tracks,
    # which v0.20.0 does not send; a data track's codec is "None", media tracks carry configChangeCount,
    # a timebase, `codecModule` ("none" on inputs, the encoder's library on transcoded outputs) and
    # `codecStatus` on outputs (v0.21.0-media/srt_detail_after_2s).
    outputs = [t for o in detail["outputs"] for t in o["tracks"]]
    for is_output, track in [*((False, t) for t in detail["input"]["tracks"]), *((True, t) for t in outputs)]:
        if track["type"] == "Data":
            track["data"] = {"codec": "None"}
            continue
        media = track.get("video") or track.get("audio")
        if media is None:
            continue
        if "video" in track:
            media.update(maxWidth=media["width"], maxHeight=media["height"], maxFramerate=media["framerate"])
        opus = media["codec"] == "OPUS"
        media.update(configChangeCount=0, timebase={"den": 48_000 if opus else 90_000, "num": 1})
        if is_output:
            media["codecStatus"] = "Ready"
            if opus:
                media["codecModule"] = "libopus"
        else:
            media["codecModule"] = "none"


CONNECTION_KINDS = ("file", "hlsv3", "llhls", "ovt", "push", "srt", "thumbnail", "webrtc")


def stats(
    *, created: str, bytes_in: int, last_recv: str, throughput_in: int, llhls: int = 0
) -> dict[str, Any]:
    return {
        "avgThroughputIn": throughput_in, "avgThroughputOut": 0,
        "connections": {**dict.fromkeys(CONNECTION_KINDS, 0), "llhls": llhls},
        "createdTime": created, "lastRecvTime": last_recv, "lastSentTime": created,
        "lastThroughputIn": throughput_in // 8, "lastThroughputOut": 0, "lastUpdatedTime": last_recv,
        "maxThroughputIn": throughput_in, "maxThroughputOut": 0, "maxTotalConnectionTime": created,
        "maxTotalConnections": llhls, "totalBytesIn": bytes_in, "totalBytesOut": 0, "totalConnections": llhls,
    }
