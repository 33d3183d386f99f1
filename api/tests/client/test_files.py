"""The client picks a folder's images by extension: every type the server accepts, no other."""

from PIL import Image

from pixtag import imaging
from pixtag.client.files import IMAGE_EXTENSIONS
from pixtag.storage import keys


def test_the_client_takes_every_extension_pillow_gives_the_accepted_formats():
    imaging.register()
    Image.init()
    accepted = {
        ext for ext, fmt in Image.registered_extensions().items() if fmt in imaging.ACCEPTED
    }
    assert accepted <= IMAGE_EXTENSIONS
    assert {f".{ext}" for ext in keys.EXTENSIONS.values()} <= IMAGE_EXTENSIONS
    assert {".heic", ".heif", ".avif"} <= IMAGE_EXTENSIONS


def test_the_client_takes_only_extensions_of_accepted_formats():
    Image.init()
    imaging.register()
    formats = Image.registered_extensions()
    assert {formats[ext] for ext in IMAGE_EXTENSIONS} <= set(imaging.ACCEPTED) | {"DIB"}
