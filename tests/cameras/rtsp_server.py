"""A real RTSP server (GStreamer's gst-rtsp-server) serving an MP4 file, for tests.

Run with Debian's /usr/bin/python3 (which has gi + GstRtspServer), not the venv:
    /usr/bin/python3 rtsp_server.py PORT FILE.mp4 [--codec h264|h265|jpeg]
                                                 [--auth basic|digest USER PASSWORD]
Prints READY once listening on 127.0.0.1:PORT, mount /cam. Each client gets the file from
its start (not shared), so a reconnect after a restart starts the clip again. `--codec
jpeg` ignores FILE and streams a live test picture as RTP/JPEG (a codec sitroom's own RTSP
reader leaves to FFmpeg). With `--auth`, DESCRIBE and the rest need those credentials.
"""

import argparse

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

PIPELINES = {
    "h264": "( filesrc location={path} ! qtdemux ! h264parse config-interval=-1 "
            "! rtph264pay name=pay0 pt=96 config-interval=1 )",
    "h265": "( filesrc location={path} ! qtdemux ! h265parse config-interval=-1 "
            "! rtph265pay name=pay0 pt=96 config-interval=1 )",
    "jpeg": "( videotestsrc is-live=true "
            "! video/x-raw,format=I420,width=320,height=240,framerate=10/1 "
            "! jpegenc ! rtpjpegpay name=pay0 pt=26 )",
}


def protect(server: GstRtspServer.RTSPServer, factory: GstRtspServer.RTSPMediaFactory,
            method: str, user: str, password: str) -> None:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "user")
    if method == "basic":
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
    else:
        auth.add_digest(user, password, token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_permission_for_role("user", "media.factory.access", True)
    permissions.add_permission_for_role("user", "media.factory.construct", True)
    factory.set_permissions(permissions)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port")
    parser.add_argument("path")
    parser.add_argument("--codec", choices=sorted(PIPELINES), default="h264")
    parser.add_argument("--auth", nargs=3, metavar=("METHOD", "USER", "PASSWORD"))
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(args.port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINES[args.codec].format(path=args.path))
    factory.set_shared(False)
    if args.auth:
        protect(server, factory, *args.auth)
    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        print("FAILED to bind", flush=True)
        raise SystemExit(1)
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
