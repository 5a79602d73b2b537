"""Unit tests of the Python reference's maths against values computed by hand.

Each expected value below is worked out in the comment next to it from the official EdgeSAM
pipeline's pre-processing, prompt and post-processing rules, not by running the code.
"""
import numpy as np
import pytest
from PIL import Image

import edgesam_reference as ref

STD = np.array([58.395, 57.12, 57.375])
MEAN = np.array([123.675, 116.28, 103.53])


# ---------------------------------------------------------------- resized_size
@pytest.mark.parametrize("h,w,expected", [
    (640, 480, (1024, 768)),      # scale 1.6: 640*1.6 = 1024, 480*1.6 = 768
    (720, 1280, (576, 1024)),     # scale 0.8: 576
    (512, 512, (1024, 1024)),     # scale 2
    (1024, 1024, (1024, 1024)),   # identity
    (3000, 4000, (768, 1024)),    # scale 0.256: 3000*0.256 = 768
    (9, 17, (542, 1024)),         # 9*1024/17 = 542.1176 -> int(542.6176) = 542
    (17, 9, (1024, 542)),
    (767, 1023, (768, 1024)),     # 767*1024/1023 = 767.7498 -> int(768.2498) = 768
    (577, 1025, (576, 1024)),     # 577*1024/1025 = 576.4371 -> int(576.9371) = 576
    (3, 2048, (2, 1024)),         # 1.5 + 0.5 = 2.0 -> 2: halves round up
    (5, 2048, (3, 1024)),         # 2.5 + 0.5 -> 3
    (5, 1030, (5, 1024)),         # 5*1024/1030 = 4.9709 -> int(5.47) = 5
    (1030, 4, (1024, 4)),         # 4*1024/1030 = 3.9767 -> int(4.4767) = 4
])
def test_resized_size(h, w, expected):
    assert ref.resized_size(h, w) == expected


# ---------------------------------------------------------------- pre-processing
def test_resize_is_pil_bilinear_antialiased():
    # 2048x2048, columns j with j % 4 == 0 are 255, others 0; downscale x2 to 1024.
    # PIL bilinear = triangle filter of support 1*scale = 2 source pixels around the output centre
    # 2i+1 (source units): source centres j+0.5 at distances 1.5, 0.5, 0.5, 1.5 -> weights
    # .25, .75, .75, .25 -> normalised .125, .375, .375, .125 over j = 2i-1 .. 2i+2.
    #   i even (2k): j = 4k-1, 4k, 4k+1, 4k+2 -> only 4k is 255: .375*255 = 95.625 -> 96
    #   i odd (2k+1): j = 4k+1 .. 4k+4 -> only 4k+4: .125*255 = 31.875 -> 32
    #   i = 0: j = -1 is outside, weights .375, .375, .125 renormalised by .875:
    #          j = 0 is 255 -> 255*.375/.875 = 109.29 -> 109
    # (OpenCV INTER_LINEAR would give 127.5 / 0 instead: the antialiasing matters.)
    rgb = np.zeros((2048, 2048, 3), np.uint8)
    rgb[:, ::4] = 255
    out = ref.resize_rgb(rgb, 1024, 1024)
    assert out.shape == (1024, 1024, 3) and out.dtype == np.uint8
    assert out[500, 0, 0] == 109
    assert list(out[500, 1:9, 1]) == [32, 96, 32, 96, 32, 96, 32, 96]
    assert (out[:, 2:1020:2] == 96).all() and (out[:, 1:1020:2] == 32).all()


def test_preprocess_normalises_then_pads_with_zero():
    # A 2x4 (h x w) uniform photo -> 512x1024 (scale 256: 2*256 = 512), constant stays constant.
    # (124 - 123.675)/58.395 = 0.0055655, (116 - 116.28)/57.12 = -0.0049020,
    # (104 - 103.53)/57.375 = 0.0081917. Rows 512..1023 are padding: exactly 0.
    rgb = np.empty((2, 4, 3), np.uint8)
    rgb[...] = (124, 116, 104)
    x = ref.preprocess(rgb)
    assert x.shape == (1, 3, 1024, 1024) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, 0, :512], 0.0055655, atol=1e-6)
    np.testing.assert_allclose(x[0, 1, :512], -0.0049020, atol=1e-6)
    np.testing.assert_allclose(x[0, 2, :512], 0.0081917, atol=1e-6)
    assert (x[0, :, 512:] == 0).all()


def test_preprocess_pads_on_the_right_for_portrait():
    # 8x4 (h x w) black photo -> 1024x512. Black normalises to -mean/std; columns >= 512 are 0.
    # -123.675/58.395 = -2.117904, -116.28/57.12 = -2.035714, -103.53/57.375 = -1.804444
    x = ref.preprocess(np.zeros((8, 4, 3), np.uint8))
    np.testing.assert_allclose(x[0, :, :, :512].reshape(3, -1).max(axis=1), [-2.117904, -2.035714, -1.804444], atol=1e-6)
    np.testing.assert_allclose(x[0, :, :, :512].reshape(3, -1).min(axis=1), [-2.117904, -2.035714, -1.804444], atol=1e-6)
    assert (x[0, :, :, 512:] == 0).all()
    back = ref.denormalize(x, 1024, 512)
    np.testing.assert_allclose(back, 0.0, atol=1e-4)


def _exif_jpeg(path, orientation):
    # Stored 64 wide x 32 tall: left half red, right half blue.
    rgb = np.zeros((32, 64, 3), np.uint8)
    rgb[:, :32] = (255, 0, 0)
    rgb[:, 32:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, "JPEG", quality=100, subsampling=0, exif=exif.tobytes())


def test_load_rgb_applies_exif_orientation(tmp_path):
    # Orientation 6: the viewer rotates 90 degrees clockwise -> 32 wide x 64 tall, and the stored
    # left column becomes the top row: top half red, bottom half blue.
    _exif_jpeg(tmp_path / "o6.jpg", 6)
    a = ref.load_rgb(tmp_path / "o6.jpg")
    assert a.shape == (64, 32, 3)
    assert a[10, 16, 0] > 200 and a[10, 16, 2] < 50
    assert a[54, 16, 2] > 200 and a[54, 16, 0] < 50
    # Orientation 8: 90 degrees counter-clockwise -> the left column becomes the bottom row.
    _exif_jpeg(tmp_path / "o8.jpg", 8)
    b = ref.load_rgb(tmp_path / "o8.jpg")
    assert b.shape == (64, 32, 3)
    assert b[10, 16, 2] > 200 and b[10, 16, 0] < 50
    assert b[54, 16, 0] > 200 and b[54, 16, 2] < 50


# ---------------------------------------------------------------- prompts
def test_transform_coords_no_offset_per_axis():
    # h=3, w=2048 -> (2, 1024): x *= 1024/2048 = 0.5, y *= 2/3 (not 0.5: each axis its own ratio)
    c = ref.transform_coords([(100, 1), (0, 0), (2047, 2)], 3, 2048)
    np.testing.assert_allclose(c, [[50, 2 / 3], [0, 0], [1023.5, 4 / 3]], rtol=1e-12)


def test_prompt_arrays_points_then_box_no_padding():
    # 512x512 -> scale 2. Points first, then the box corners labelled 2 and 3.
    coords, labels = ref.prompt_arrays([(10, 20, 1), (30, 40, 0)], (1, 2, 3, 4), 512, 512)
    assert coords.dtype == np.float32 and labels.dtype == np.float32
    assert coords.shape == (1, 4, 2) and labels.shape == (1, 4)
    np.testing.assert_array_equal(coords[0], [[20, 40], [60, 80], [2, 4], [6, 8]])
    np.testing.assert_array_equal(labels[0], [1, 0, 2, 3])


def test_prompt_arrays_single_point_and_box_alone():
    coords, labels = ref.prompt_arrays([(5, 7)], None, 512, 512)  # default label 1, no padding point
    np.testing.assert_array_equal(coords, [[[10, 14]]])
    np.testing.assert_array_equal(labels, [[1]])
    coords, labels = ref.prompt_arrays([], (0, 0, 511, 255), 512, 1024)  # h=512, w=1024: scale 1
    np.testing.assert_array_equal(coords, [[[0, 0], [511, 255]]])
    np.testing.assert_array_equal(labels, [[2, 3]])
    with pytest.raises(ValueError):
        ref.prompt_arrays([], None, 10, 10)


# ---------------------------------------------------------------- post-processing
def test_choose_mask_index():
    s = np.array([[0.1, 0.9, 0.3, 0.2]], np.float32)
    assert ref.choose_mask_index(s, has_points=True, has_box=False) == 1
    assert ref.choose_mask_index(s, has_points=False, has_box=True) == 0   # box alone: single-mask token
    assert ref.choose_mask_index(s, has_points=True, has_box=True) == 1    # box + points: argmax
    assert ref.choose_mask_index(s, has_points=True, has_box=False, requested=3) == 3
    assert ref.choose_mask_index(s, has_points=False, has_box=True, requested=2) == 2
    with pytest.raises(ValueError):
        ref.choose_mask_index(s, True, False, requested=4)


def test_stability_score_counts_strictly():
    # > +1: {1.5, 2} = 2; > -1: {-0.5, 0.5, 1.5, 2, 1.0} = 5 (exactly -1 and 1 are not "above" their bound,
    # 1.0 is above -1) -> 2/5 = 0.4
    l = np.array([[-2, -1, -0.5, 0.5], [1.0, 1.5, 2, -3]], np.float32)
    assert ref.stability_score(l) == pytest.approx(0.4)
    # offset 0.75: > 0.75: {1.0, 1.5, 2} = 3; > -0.75: {-0.5, 0.5, 1.0, 1.5, 2} = 5 -> 0.6
    assert ref.stability_score(l, offset=0.75) == pytest.approx(3 / 5)


def test_stability_score_batched_like_the_decoder_output():
    m = np.full((1, 4, 256, 256), -5, np.float32)
    m[0, 0, :128] = 5          # 32768 above +1, 32768 above -1 -> 1.0
    m[0, 1, :64] = 5           # plus 64 rows at 0 (above -1 only): 16384 / (16384+16384) = 0.5
    m[0, 1, 64:128] = 0
    m[0, 3, :, :] = 0          # nothing above +1, all above -1 -> 0.0
    s = ref.stability_score(m)  # mask 2: nothing above -1 -> 0/0 = nan
    assert s.shape == (1, 4)
    assert s[0, 0] == 1.0 and s[0, 1] == 0.5 and s[0, 3] == 0.0 and np.isnan(s[0, 2])


def test_threshold_is_zero_on_logits():
    np.testing.assert_array_equal(ref.threshold(np.array([-0.1, 0.0, 0.1, 0.4, 0.6])), [0, 0, 1, 1, 1])


def test_postprocess_identity_size_column_ramp():
    # low_res[i, j] = j. cv2 INTER_LINEAR x4 with half-pixel centres: output column X samples
    # source (X + 0.5)/4 - 0.5, clamped to [0, 255]: X=0 -> 0 (clamped -0.375), X=2 -> 0.125,
    # X=101 -> 24.875, X=1023 -> 255 (clamped 255.375). A 1024x1024 photo needs no crop, no resize.
    lr = np.tile(np.arange(256, dtype=np.float32), (256, 1))
    out = ref.postprocess_logits(lr, 1024, 1024)
    assert out.shape == (1024, 1024) and out.dtype == np.float32
    np.testing.assert_allclose(out[7, [0, 2, 101, 1023]], [0, 0.125, 24.875, 255], atol=1e-4)


def test_postprocess_crops_padding_before_resizing():
    # h=512, w=1024 -> resized (512, 1024): rows 512..1023 of the 1024 frame are padding and must be
    # cropped, not squeezed. low_res[i, :] = i: row Y of the 1024 frame = (Y + 0.5)/4 - 0.5, so the
    # last kept row Y=511 is 127.375 (a stretch of the full frame would end at 255).
    lr = np.tile(np.arange(256, dtype=np.float32)[:, None], (1, 256))
    out = ref.postprocess_logits(lr, 512, 1024)
    assert out.shape == (512, 1024)
    np.testing.assert_allclose(out[[0, 2, 511], 5], [0, 0.125, 127.375], atol=1e-4)


def test_postprocess_upscale_to_original():
    # 2048x2048 photo -> resized 1024: two linear resizes compose to x8 with half-pixel centres:
    # column x samples ((x + 0.5)/2 - 0.5 + 0.5)/4 - 0.5 = (x + 0.5)/8 - 0.5 in the low-res grid
    # (exact for a linear ramp away from the clamped edges): x=100 -> 12.0625, x=1000 -> 124.5625.
    lr = np.tile(np.arange(256, dtype=np.float32), (256, 1))
    out = ref.postprocess_logits(lr, 2048, 2048)
    assert out.shape == (2048, 2048)
    np.testing.assert_allclose(out[1000, [100, 1000]], [12.0625, 124.5625], atol=1e-3)


def test_postprocess_downscale_to_original():
    # 4000x3000 (w x h) -> (768, 1024). Row ramp low_res[i, :] = i: 1024-frame row Y holds
    # (Y + 0.5)/4 - 0.5; crop 768 rows; resize 768 -> 3000 rows (scale 768/3000 = 0.256): output
    # row y samples frame row (y + 0.5)*0.256 - 0.5. y=1500: 383.628 -> (383.628 + 0.5)/4 - 0.5 = 95.532
    lr = np.tile(np.arange(256, dtype=np.float32)[:, None], (1, 256))
    out = ref.postprocess_logits(lr, 3000, 4000)
    assert out.shape == (3000, 4000)
    np.testing.assert_allclose(out[1500, 2000], 95.532, atol=1e-3)


def test_mask_bbox_area():
    m = np.zeros((10, 20), bool)
    m[2:5, 3:9] = True     # x 3..8, y 2..4 -> [3, 2, 6, 3], 18 pixels
    m[7, 15] = True        # extends to x 15, y 7 -> [3, 2, 13, 6], 19 pixels
    assert ref.mask_bbox_area(m) == ([3, 2, 13, 6], 19)
    assert ref.mask_bbox_area(np.zeros((4, 4), bool)) == (None, 0)


# ---------------------------------------------------------------- the whole pipeline on a model
def test_segment_on_tiny_standin(tmp_path):
    standins = pytest.importorskip("standins")
    enc, dec = standins.ensure_standins(size="tiny", scores="stability")
    sess = ref.ReferenceSession(enc, dec, threads=1)
    rgb = np.random.default_rng(0).integers(0, 256, size=(300, 200, 3), dtype=np.uint8)
    r = ref.segment(sess, rgb, points=[(50, 60, 1), (150, 250, 0)])
    assert r.resized == (1024, 683)  # 200*1024/300 = 682.67 -> 683
    assert r.input.shape == (1, 3, 1024, 1024) and r.embedding.shape == (1, 256, 64, 64)
    assert r.point_coords.shape == (1, 2, 2) and r.point_labels.tolist() == [[1, 0]]   # no padding point
    assert r.scores.shape == (1, 4) and r.masks.shape == (1, 4, 256, 256)
    assert r.mask_index == int(np.argmax(r.scores[0]))
    assert r.logits.shape == (300, 200) and r.mask.dtype == bool
    # The stability-score export's scores are the stability of its own low-res masks.
    np.testing.assert_allclose(r.scores[0], ref.stability_score(r.masks[0]), atol=1e-6)
    # Box alone -> index 0; reusing the embedding gives the same decode.
    rb = ref.segment(sess, rgb, box=(10, 10, 190, 290), embedding=r.embedding)
    assert rb.mask_index == 0 and rb.point_labels.tolist() == [[2, 3]]
