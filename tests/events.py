"""Reading a run's TensorBoard event files back, as TensorBoard does."""


def tensorboard_tags(folder) -> set[str]:
    """Every tag of the event files below ``folder``, read with TensorBoard's own reader."""
    from tensorboard.backend.event_processing import event_accumulator

    tags = set()
    for events in {p.parent for p in folder.rglob("events.out.tfevents.*")}:
        reader = event_accumulator.EventAccumulator(str(events))
        reader.Reload()
        found = reader.Tags()
        tags |= set(found.get("tensors", [])) | set(found.get("scalars", []))
    return tags
