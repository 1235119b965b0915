"""Loading routes from image folders: generic, Nordland and Oxford RobotCar layouts."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from spikemem.errors import ModelError
from spikemem.models.place_recognition.loaders import load_folders, load_nordland, load_robotcar, read_image


def _png(path, value, size=(6, 4), mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode == "L" else (value, value, value)
    Image.new(mode, size, colour).save(path)
    return path


def _nordland(root, n=5, seasons=("spring", "summer", "fall", "winter")):
    for k, season in enumerate(seasons):
        for i in range(n):
            _png(root / season / f"{i + 1}.png", 10 * i + k)     # unpadded: 10.png after 9.png
    return root


def test_nordland_aligns_frames_by_natural_order(tmp_path):
    route = load_nordland(_nordland(tmp_path, n=12))
    assert route.reference == ("spring", "fall") and route.query == "summer" and route.calibration is None
    summer = route.traverses["summer"]
    assert summer.places.tolist() == list(range(12))
    assert summer.images[:, 0, 0].tolist() == [10 * i + 1 for i in range(12)]
    assert summer.condition == "summer" and summer.images.shape == (12, 4, 6)


def test_nordland_every_limit_size_and_calibration(tmp_path):
    route = load_nordland(_nordland(tmp_path, n=10), calibration="winter", every=3, limit=3, size=8)
    assert route.traverses["winter"].places.tolist() == [0, 3, 6]
    assert route.traverses["spring"].images.shape == (3, 8, 8)


def test_nordland_without_a_season_folder(tmp_path):
    _nordland(tmp_path, seasons=("spring", "fall"))
    with pytest.raises(ModelError, match="summer: no such folder"):
        load_nordland(tmp_path)


def test_an_empty_season_folder(tmp_path):
    _nordland(tmp_path, seasons=("spring", "fall"))
    (tmp_path / "summer").mkdir()
    (tmp_path / "summer" / "notes.txt").write_text("no images")
    with pytest.raises(ModelError, match="summer: no images"):
        load_nordland(tmp_path)


def test_a_longer_query_has_places_the_references_lack(tmp_path):
    _nordland(tmp_path, n=3)
    _png(tmp_path / "summer" / "4.png", 0)
    with pytest.raises(ModelError, match="traverse 'summer': image 3 shows place 3"):
        load_nordland(tmp_path)


def test_mixed_sizes_and_modes_name_the_file(tmp_path):
    _nordland(tmp_path, n=3)
    _png(tmp_path / "fall" / "2.png", 0, size=(8, 8))
    with pytest.raises(ModelError, match=r"image 1 \(.*fall/2.png\) is 8 x 8"):
        load_nordland(tmp_path)
    assert load_nordland(tmp_path, size=16).traverses["fall"].images.shape == (3, 16, 16)
    _png(tmp_path / "fall" / "2.png", 0, mode="RGB")
    with pytest.raises(ModelError, match=r"image 1 \(.*fall/2.png\) is RGB"):
        load_nordland(tmp_path)


def test_an_unreadable_image_names_its_path(tmp_path):
    _nordland(tmp_path, n=3)
    (tmp_path / "summer" / "2.png").write_bytes(b"not a png")
    with pytest.raises(ModelError, match=r"summer/2.png: cannot read the image"):
        load_nordland(tmp_path)


def test_colour_images_stay_rgb(tmp_path):
    image = read_image(_png(tmp_path / "a.png", 7, mode="RGB"))
    assert image.shape == (4, 6, 3) and image.dtype == np.uint8
    assert read_image(_png(tmp_path / "b.png", 7, mode="RGBA")).shape == (4, 6, 3)


def _folders(root):
    for t in ("day", "dusk", "night"):
        for i in range(3):
            _png(root / t / f"{t}_{i}.png", 50 * i)
    (root / "places.csv").write_text(
        "traverse,image,place\n"
        "day,day_0.png,10\nday,day_1.png,11\nday,day_2.png,12\n"
        "dusk,dusk_2.png,12\ndusk,dusk_0.png,10\n"
        "night,night_1.png,11\n")
    return root


def test_folders_take_the_listed_images_in_csv_order(tmp_path):
    root = _folders(tmp_path)
    route = load_folders(root, root / "places.csv", reference=("day",), query="dusk", calibration="night")
    dusk = route.traverses["dusk"]
    assert dusk.places.tolist() == [12, 10] and dusk.images[:, 0, 0].tolist() == [100, 0]
    assert route.places.tolist() == [10, 11, 12]


@pytest.mark.parametrize("csv, match", [
    ("traverse,image\nday,day_0.png\n", "place missing"),
    ("traverse,image,place\n", "no rows"),
    ("traverse,image,place\nday,day_0.png,1\ndusk,dusk_0.png,x\n", "line 3: place 'x' is not a whole number"),
    ("traverse,image,place\nday,day_0.png,1\ndusk,dusk_0.png,2\n",
     "places.csv: traverse 'dusk': image 0 shows place 2"),
    ("traverse,image,place\nday,day_0.png,1\ndusk,gone.png,1\n", "dusk/gone.png: no such image file"),
    ("traverse,image,place\nday,day_0.png,1\n", "no image of traverse 'dusk' is listed"),
])
def test_bad_place_lists(tmp_path, csv, match):
    root = _folders(tmp_path)
    (root / "places.csv").write_text(csv)
    with pytest.raises(ModelError, match=match):
        load_folders(root, root / "places.csv", reference=("day",), query="dusk")


def test_a_missing_csv_or_root(tmp_path):
    with pytest.raises(ModelError, match="cannot read the CSV"):
        load_folders(tmp_path, tmp_path / "none.csv", reference=("a",), query="b")
    with pytest.raises(ModelError, match="no such folder"):
        load_folders(tmp_path / "none", tmp_path / "none.csv", reference=("a",), query="b")
    with pytest.raises(ModelError, match="sequence of traverse names"):
        load_folders(_folders(tmp_path), tmp_path / "places.csv", reference="day", query="dusk")


def _robotcar(root, camera=True):
    stamps = {"2014-12-09-13-21-02": [1418132416737115, 1418132417737115, 1418132418737115],
              "2014-12-10-18-10-50": [1418235050000000, 1418235051000000, 1418235052000000]}
    for date, ts in stamps.items():
        folder = root / date / "stereo" / "centre" if camera else root / date
        for i, t in enumerate(ts):
            _png(folder / f"{t}.png", 30 * i, mode="RGB")
    return root, stamps


def test_robotcar_aligned_by_timestamp_order(tmp_path):
    root, stamps = _robotcar(tmp_path)
    route = load_robotcar(root, reference=("2014-12-09-13-21-02",), query="2014-12-10-18-10-50")
    q = route.traverses["2014-12-10-18-10-50"]
    assert q.places.tolist() == [0, 1, 2] and q.images[:, 0, 0, 0].tolist() == [0, 30, 60] and q.colour


def test_robotcar_places_from_a_timestamp_csv(tmp_path):
    root, stamps = _robotcar(tmp_path, camera=False)
    day, night = stamps
    (root / "places.csv").write_text(
        "traverse,timestamp,place\n"
        + "".join(f"{day},{t},{p}\n" for t, p in zip(stamps[day], (5, 6, 7)))
        + f"{night},{stamps[night][2]},7\n{night},{stamps[night][0]},5\n")
    route = load_robotcar(root, reference=(day,), query=night, places=root / "places.csv")
    assert route.traverses[night].places.tolist() == [7, 5]
    assert route.traverses[night].images[:, 0, 0, 0].tolist() == [60, 0]
    (root / "places.csv").write_text(f"traverse,timestamp,place\n{day},1,5\n{night},1,5\n")
    with pytest.raises(ModelError, match=f"traverse '{day}' has no image with timestamp 1"):
        load_robotcar(root, reference=(day,), query=night, places=root / "places.csv")


def test_robotcar_defaults_are_the_papers_subsets(tmp_path):
    for t in ("Sun", "Rain", "Dusk"):
        for i in range(2):
            _png(tmp_path / t / f"{i:06d}.png", i)
    route = load_robotcar(tmp_path)
    assert route.reference == ("Sun", "Rain") and route.query == "Dusk"


def test_the_loaders_do_not_import_torchvision(tmp_path):
    _nordland(tmp_path, n=2)
    code = ("import sys; from spikemem.models.place_recognition.loaders import load_nordland; "
            f"load_nordland({str(tmp_path)!r}); assert 'torchvision' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
