"""A real RTSP server (GStreamer's gst-rtsp-server) serving an H.264 MP4 file, for tests.

Run with Debian's /usr/bin/python3 (which has gi + GstRtspServer), not the venv:
    /usr/bin/python3 rtsp_server.py PORT FILE.mp4
Prints READY once listening on 127.0.0.1:PORT, mount /cam. Each client gets the file from
its start (not shared), so a reconnect after a restart starts the clip again.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    port, path = sys.argv[1], sys.argv[2]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( filesrc location={path} ! qtdemux ! h264parse config-interval=-1 "
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(False)
    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        print("FAILED to bind", flush=True)
        sys.exit(1)
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
