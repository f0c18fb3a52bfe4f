import rung.space
def test_x():
    assert rung.space.Space
