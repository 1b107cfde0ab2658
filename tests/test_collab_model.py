import torch

from l4tui.modelfiles import load_model_file, model_classes
from l4tui.paths import models_dir


def test_embedding_dot_bias_is_found_without_running_the_file():
    assert "EmbeddingDotBias" in model_classes(models_dir() / "collab.py")


def test_prediction_is_dot_product_plus_biases():
    collab = load_model_file("collab")
    model = collab.EmbeddingDotBias(n_factors=3, n_users=4, n_items=5)
    x = torch.tensor([[0, 1], [3, 4]])
    expected = ((model.u_weight.weight[x[:, 0]] * model.i_weight.weight[x[:, 1]]).sum(1)
                + model.u_bias.weight[x[:, 0], 0] + model.i_bias.weight[x[:, 1], 0])
    assert torch.allclose(model(x), expected)


def test_y_range_squeezes_predictions_through_a_scaled_sigmoid():
    collab = load_model_file("collab")
    model = collab.EmbeddingDotBias(n_factors=8, n_users=10, n_items=10, y_range=(0.0, 5.5))
    with torch.no_grad():
        model.u_weight.weight.fill_(0.5)
        model.i_weight.weight.fill_(0.5)
        model.u_bias.weight.fill_(0.0)
        model.i_bias.weight.fill_(0.0)
    x = torch.tensor([[0, 0], [9, 9]])
    out = model(x)
    assert out.shape == (2,)
    assert torch.allclose(out, torch.sigmoid(torch.tensor(2.0)) * 5.5)  # dot product 8 * 0.25 = 2
    with torch.no_grad():
        model.u_weight.weight.fill_(0.0)
        model.u_bias.weight.fill_(0.0)
        model.i_bias.weight.fill_(0.0)
    assert torch.allclose(model(x), torch.full((2,), 2.75))  # sigmoid(0) is the middle of the range


def test_parameter_count():
    collab = load_model_file("collab")
    model = collab.EmbeddingDotBias(n_factors=50, n_users=600, n_items=900)
    assert sum(p.numel() for p in model.parameters()) == 50 * 600 + 50 * 900 + 600 + 900
