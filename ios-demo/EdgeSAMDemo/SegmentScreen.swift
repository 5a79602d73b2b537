// Pick a photo, then: tap = positive point, long press = negative point, drag = box. The mask is
// drawn over the photo after every gesture; Undo steps back; Share exports the cut-out.

import EdgeSAM
import PhotosUI
import SwiftUI
import UIKit

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
        case .encoding(let percent):
            ZStack {
                if let photo = model.photo {
                    Image(uiImage: photo).resizable().scaledToFit().opacity(0.4)
                }
                VStack(spacing: 12) {
                    // The library reports each encoder step: a real percentage.
                    ProgressView(value: Double(percent), total: 100)
                        .frame(maxWidth: 240)
                    Text("Encoding… \(percent) %").monospacedDigit()
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
    /// Shown upright (its imageOrientation applied), as it was encoded.
    let photo: UIImage
    let overlay: CGImage?
    let prompt: SegmentPrompt?
    let onGesture: (PhotoGesture) -> Void

    @State private var touchStarted: Date?
    @State private var dragRect: CGRect?

    var body: some View {
        GeometryReader { geometry in
            let fit = AspectFit(photoWidth: photoWidth, photoHeight: photoHeight,
                                viewWidth: geometry.size.width, viewHeight: geometry.size.height)
            ZStack(alignment: .topLeading) {
                layer(Image(uiImage: photo), in: geometry.size)
                if let overlay {
                    layer(Image(decorative: overlay, scale: 1), in: geometry.size)
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

    /// The upright photo's size in pixels: the size of its masks.
    private var photoWidth: Int { Int((photo.size.width * photo.scale).rounded()) }
    private var photoHeight: Int { Int((photo.size.height * photo.scale).rounded()) }

    private func layer(_ image: Image, in size: CGSize) -> some View {
        image
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
                guard start.x >= 0, start.y >= 0, start.x < Float(photoWidth), start.y < Float(photoHeight) else {
                    return   // the touch began on the margin around the photo
                }
                onGesture(PhotoGesture.classify(start: down, end: up, seconds: seconds, toPhoto: fit.toPhoto))
            }
    }
}
