"""Training of PAVE-Net (``pavenet train``; needs the ``train`` extra).

Modules: ``config`` (run config, torch-free), ``data`` (synthetic/PoseTrack window datasets),
``steps`` (model + criterion forward, frozen neighbour frames), ``optim`` (parameter groups and
LR schedule), ``loop`` (:class:`~pavenet_sdk.train.loop.Trainer`), ``distributed`` (torchrun/DDP),
``evaluate`` (held-out PoseTrack mAP), ``state`` (checkpoints, ``init_from``), ``metrics`` and
``plot`` (logs and the training curve). Importing this package does not import torch.
"""
