// RUN: tucker-compile %s -O 0 --emit=obj -o %t0.o
// RUN: tucker-compile %s -O 1 --emit=obj -o %t1.o
// RUN: tucker-compile %s -O 2 --emit=obj -o %t2.o
// RUN: tucker-compile %s -O 3 --emit=obj -o %t3.o

// Tests that: a bf16 MHA layer with biases and RoPE (whose biases become a
// row of ones beside x, so that a 32x33 weight is packed by a transpose)
// compiles at every LLVM optimization level: --tucker-cpu-vectorize leaves
// that bf16 transpose to loops, since vectorized it would gather its input by
// dynamic-index inserts into a vector<33xbf16>, which LLVM 22's x86
// instruction selection aborts on at -O1 and -O2.
func.func @forward(%x: tensor<?x?x32xbf16>, %wq: tensor<32x32xbf16>, %wk: tensor<32x32xbf16>, %wv: tensor<32x32xbf16>, %wo: tensor<32x32xbf16>, %bq: tensor<32xbf16>, %bk: tensor<32xbf16>, %bv: tensor<32xbf16>) -> tensor<?x?x32xbf16> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) bk(%bk) bv(%bv) {num_heads = 4 : i64, rope = #tucker.rope<theta = 1.0e+06, width = 8, style = half>} : (tensor<?x?x32xbf16>, tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<32x32xbf16>, tensor<32xbf16>, tensor<32xbf16>, tensor<32xbf16>) -> tensor<?x?x32xbf16>
  return %y : tensor<?x?x32xbf16>
}
