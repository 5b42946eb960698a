"""What several quality experiments share: training a run up to an epoch, scoring generated digits, the log."""
import os
import time

from tinygan.evaluation.classifier import classify
from tinygan.evaluation.reference import image_scores
from tinygan.train.evaluate import generate


def log(message):
    print(message, flush=True)


def train_until(run, epoch):
    """Train `run` up to `epoch` epochs in total; the seconds it took."""
    started = time.perf_counter()
    run.train(epochs=epoch, quiet=True)
    return time.perf_counter() - started


def image_eval(run, reference, n, seed):
    """FID, classifier score, rarest class (and label accuracy for a conditional model) of n generated digits."""
    started = time.perf_counter()
    samples, requested = generate(run, n, seed)
    probs, features = classify(samples, value_range=(-1, 1))
    scores = image_scores(probs, features, reference, requested)
    scores = {key: round(value, 4) for key, value in scores.items()}
    scores["eval_seconds"] = round(time.perf_counter() - started, 1)
    return scores


def floor(reference):
    """The same scores for n real training digits: the floor a generator of perfect digits would reach."""
    probs, features = reference.outputs("train")
    return {key: round(value, 4) for key, value in image_scores(probs, features, reference).items()}


def torch_threads():
    """Give PyTorch the thread count tinygan's BLAS reads (OMP_NUM_THREADS), or leave its default."""
    import torch  # optional: only the PyTorch twins need it
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
