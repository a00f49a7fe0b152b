// Progress lines on stderr for the slow steps a person waits on (model load, vision
// encode). Quiet when stderr is not a terminal, so logs and pipes stay clean.
#pragma once
#include <string>

#include "tinygptv/dump.h"

namespace tgv::cli {

class Progress {
 public:
  Progress();                              // enabled iff stderr is a terminal
  void start(const std::string& what);     // "loading model"
  void step(int done, int total);          // "loading model [####      ] 12/39"
  void done();                             // "loading model ... 1.23 s"
  // A DumpFn that counts "vision.block.{i}" and "qformer.layer.{i}" as steps of `what`.
  DumpFn encoder_steps(int vision_layers, int qformer_layers);
  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  std::string what_;
  double t0_ = 0;
};

}  // namespace tgv::cli
