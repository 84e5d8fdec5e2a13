import LSRecCore
