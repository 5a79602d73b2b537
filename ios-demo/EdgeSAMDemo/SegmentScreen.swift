// Pick a photo, then: tap = positive point, long press = negative point, drag = box. The mask is
// drawn over the photo after every gesture; Undo steps back; Share exports the cut-out.

import EdgeSAM
import PhotosUI
import SwiftUI

struct SegmentScreen: View {
    @ObservedObject var model: DemoModel

    var body: some View {
        NavigationStack {
            content
                .navigationTitle("EdgeSAM")
                .navigationBarTitleDisplayMode(.inline)
                .toolbar {
                    ToolbarItemGroup(placement: .bottomBar) {
                        PhotosPicker(selection: $model.pickedItem, matching: .images) {
                            Label("Photo", systemImage: "photo.on.rectangle")
                        }
                        Spacer()
                        Button { model.undo() } label: { Label("Undo", systemImage: "arrow.uturn.backward") }
                            .disabled(!model.history.canUndo)
                        Spacer()
                        if let cutout = model.cutout {
                            ShareLink(item: cutout, preview: SharePreview("Cut-out", image: Image(systemName: "scissors")))
                        } else {
                            Image(systemName: "square.and.arrow.up").foregroundStyle(.tertiary)
                        }
                    }
                }
        }
    }

    @ViewBuilder private var content: some View {
        switch model.phase {
        case .noPhoto:
            ContentUnavailableView("Pick a photo", systemImage: "photo",
                                   description: Text("Then tap the object, long-press the background, or drag a box."))
        case .failed(let message):
            ContentUnavailableView("Something went wrong", systemImage: "exclamationmark.triangle",
                                   description: Text(message))
        case .encoding(let since):
            ZStack {
                if let photo = model.photo {
                    Image(decorative: photo, scale: 1).resizable().scaledToFit().opacity(0.4)
                }
                VStack(spacing: 12) {
                    // The encoder reports no progress (see the README): elapsed time instead.
                    ProgressView()
                    TimelineView(.periodic(from: since, by: 0.1)) { context in
                        Text("Encoding… \(context.date.timeIntervalSince(since), format: .number.precision(.fractionLength(1))) s")
                            .monospacedDigit()
                    }
                    Button("Cancel", role: .cancel) { model.cancelEncoding() }
                }
            }
        case .ready:
            if let photo = model.photo {
                PhotoCanvas(photo: photo, overlay: model.overlay, prompt: model.history.current,
                            onGesture: model.apply)
            }
        }
    }
}

/// The photo aspect-fit, the mask over it, the prompt's points and box, and the touch handling.
struct PhotoCanvas: View {
    let photo: CGImage
    let overlay: CGImage?
    let prompt: SegmentPrompt?
    let onGesture: (PhotoGesture) -> Void

    @State private var touchStarted: Date?
    @State private var dragRect: CGRect?

    var body: some View {
        GeometryReader { geometry in
            let fit = AspectFit(photoWidth: photo.width, photoHeight: photo.height,
                                viewWidth: geometry.size.width, viewHeight: geometry.size.height)
            ZStack(alignment: .topLeading) {
                layer(photo, in: geometry.size)
                if let overlay {
                    layer(overlay, in: geometry.size)
                }
                ForEach(Array((prompt?.points ?? []).enumerated()), id: \.offset) { _, point in
                    let at = fit.toView(x: point.x, y: point.y)
                    Circle()
                        .fill(point.positive ? Color.green : Color.red)
                        .overlay(Circle().stroke(.white, lineWidth: 2))
                        .frame(width: 14, height: 14)
                        .position(x: at.x, y: at.y)
                }
                if let box = prompt?.box {
                    let a = fit.toView(x: box.x0, y: box.y0), b = fit.toView(x: box.x1, y: box.y1)
                    boxOutline(CGRect(x: min(a.x, b.x), y: min(a.y, b.y), width: abs(b.x - a.x), height: abs(b.y - a.y)))
                }
                if let dragRect {
                    boxOutline(dragRect).opacity(0.6)
                }
            }
            .contentShape(Rectangle())
            .gesture(touches(fit))
        }
    }

    private func layer(_ image: CGImage, in size: CGSize) -> some View {
        Image(decorative: image, scale: 1)
            .resizable()
            .interpolation(.none)   // mask pixels stay sharp-edged when zoomed
            .scaledToFit()
            .frame(width: size.width, height: size.height)
    }

    private func boxOutline(_ rect: CGRect) -> some View {
        Rectangle()
            .stroke(.yellow, lineWidth: 2)
            .frame(width: rect.width, height: rect.height)
            .position(x: rect.midX, y: rect.midY)
    }

    /// One gesture for all three: the touch's travel and duration say which it was (PhotoGesture).
    private func touches(_ fit: AspectFit) -> some Gesture {
        DragGesture(minimumDistance: 0)
            .onChanged { value in
                if touchStarted == nil { touchStarted = .now }
                let travel = hypot(Double(value.translation.width), Double(value.translation.height))
                dragRect = travel >= PhotoGesture.dragThreshold
                    ? CGRect(origin: value.startLocation, size: .zero).union(CGRect(origin: value.location, size: .zero))
                    : nil
            }
            .onEnded { value in
                let seconds = Date.now.timeIntervalSince(touchStarted ?? .now)
                touchStarted = nil
                dragRect = nil
                let down = (x: Double(value.startLocation.x), y: Double(value.startLocation.y))
                let up = (x: Double(value.location.x), y: Double(value.location.y))
                let start = fit.toPhoto(down)
                guard start.x >= 0, start.y >= 0, start.x < Float(photo.width), start.y < Float(photo.height) else {
                    return   // the touch began on the margin around the photo
                }
                onGesture(PhotoGesture.classify(start: down, end: up, seconds: seconds, toPhoto: fit.toPhoto))
            }
    }
}
