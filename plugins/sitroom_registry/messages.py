"""The registry's field errors in Bahasa Indonesia, for the form.

The API answers in English (machines and their logs read it); the form shows the same
error translated when the visitor reads Indonesian. Messages are matched by pattern, the
numbers carried over; one that is not listed stays in English rather than vanish.
"""

from __future__ import annotations

import re

from aiohttp import web

from sitroom.api import tr

_INDONESIAN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Field required$"), "Wajib diisi."),
    (re.compile(r"^String should have at least (\d+) characters?$"), r"Minimal \1 karakter."),
    (re.compile(r"^String should have at most (\d+) characters?$"), r"Maksimal \1 karakter."),
    (re.compile(r"^Input should be a valid number.*$"),
     "Harus berupa angka desimal dengan titik, mis. 110.42."),
    (re.compile(r"^must lie inside the city: between (\S+) and (\S+)$"),
     r"Harus di dalam wilayah kota: antara \1 dan \2."),
    (re.compile(r"^must be true: .*$"),
     "Centang persetujuan: pemilik setuju kamera ini dipantau oleh Pemerintah Kota."),
    (re.compile(r"^must be a phone number.*$"),
     "Harus nomor telepon: 6 sampai 15 angka, boleh diawali +."),
    (re.compile(r"^must be an e-mail address.*$"),
     "Harus alamat e-mail, misalnya nama@contoh.id."),
    (re.compile(r"^must start with rtsp://, http:// or https://$"),
     "Harus diawali rtsp://, http:// atau https://."),
    (re.compile(r"^must be a public address the city can reach.*$"),
     "Harus alamat publik yang dapat dijangkau kota (atau jaringan VPN kota)."),
    (re.compile(r"^is not a valid host name or IP address$"),
     "Bukan nama host atau alamat IP yang sah."),
    (re.compile(r"^port not allowed; use one of (.*)$"),
     r"Port tidak diizinkan; gunakan salah satu: \1."),
    (re.compile(r"^Input should be 'citizen'.*$"), "Pilih salah satu jenis pemilik."),
    (re.compile(r"^must be one of Semarang's kecamatan.*$"), "Pilih salah satu kecamatan."),
    (re.compile(r"^required \(or give stream.url\)$"), "Wajib diisi: alamat aliran kamera."),
    (re.compile(r"^is not a valid URL$"), "Bukan URL yang sah."),
    (re.compile(r"^has no host$"), "URL tidak memuat nama host."),
    (re.compile(r"^must not contain control characters$"), "Tidak boleh memuat karakter kontrol."),
    (re.compile(r"^put credentials in username/password.*$"),
     "Taruh nama pengguna dan kata sandi di kolomnya, bukan di URL."),
]


def field_message(request: web.Request, message: str) -> str:
    """`message` in the visitor's language (English unchanged)."""
    for pattern, indonesian in _INDONESIAN:
        if pattern.match(message):
            return tr(request, pattern.sub(indonesian, message), _sentence(message))
    return _sentence(message)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
