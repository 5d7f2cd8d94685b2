"Genotypes built from bad values, JSON and strings: each gives a BadInputError naming the field and the value."
import json, time

import pytest

from emodarts_nb.core import BadInputError
from emodarts_nb.genotypes import DARTS_V2, Genotype, parse_genotype

NORMAL = [[["sep_conv_3x3", 0], ["skip_connect", 1]], [["dil_conv_3x3", 2], ["max_pool_3x3", 0]]]   # states 0..3


def test_huge_range_concat_is_refused_at_once():
    t0 = time.perf_counter()
    with pytest.raises(BadInputError, match=r"genotype.normal_concat: more entries than the cell has states \(4\)"):
        Genotype(normal=NORMAL, normal_concat=range(0, 10**11))
    with pytest.raises(BadInputError, match="more entries than the cell has states"):
        parse_genotype(f"Genotype(normal={NORMAL}, normal_concat=range(0, 100000000000))")
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("concat,why", [
    ([2, "3"], "state '3' is not a whole number"), ([2, 3.0], "state 3.0 is not a whole number"),
    ([2, [3]], r"state \[3\] is not a whole number"), ([2, -1], "state -1 does not exist"),
    ([2, 4], "state 4 does not exist"), ([2, 2, 3], r"repeats a state: \[2, 2, 3\]"),
    ([2, None], "None is not a whole"),
    ([True, 2], "state True is not a whole number"), ("23", "not a list of state indices"), (7, "not a list"),
    ({"a": 1}, "state 'a' is not a whole number")])
def test_genotype_json_with_bad_concat_lists(tmp_path, concat, why):
    f = tmp_path / "genotype.json"
    f.write_text(json.dumps({"normal": NORMAL, "normal_concat": concat}))
    with pytest.raises(BadInputError, match=why) as e:
        Genotype.load(f)
    assert "genotype.normal_concat" in str(e.value)


@pytest.mark.parametrize("pair,why", [(["sep_conv_3x3", 1.9], "input index 1.9 is not a whole number"),
                                      (["sep_conv_3x3", "1"], "input index '1' is not a whole number"),
                                      ([3, 1], "operation 3 is not a name"),
                                      (["sep_conv_3x3"], "is not an .operation, input. pair"),
                                      ("sep_conv_3x3", "is not an .operation, input. pair")])
def test_genotype_input_index_is_never_rounded(pair, why):
    with pytest.raises(BadInputError, match=why):
        Genotype.from_json(json.dumps({"normal": [[["skip_connect", 0], pair]], "normal_concat": [2]}))


def test_string_with_float_index_is_refused_and_good_ones_round_trip():
    with pytest.raises(BadInputError, match="int literal"):
        parse_genotype("Genotype(normal=[('sep_conv_3x3', 1.9), ('skip_connect', 0)], normal_concat=range(2, 3))")
    assert Genotype.from_json(DARTS_V2.to_json()) == DARTS_V2 == parse_genotype(str(DARTS_V2))
    assert DARTS_V2.normal_concat == (2, 3, 4, 5)
