using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Imaging;

/// <summary>The imaging tables' mapping, called from the model of both engines.</summary>
public static class ImagingModel
{
    public static void Configure(ModelBuilder b) => b.Entity<ImagingStudy>(e =>
    {
        e.Property(x => x.OrthancId).HasMaxLength(64);
        e.Property(x => x.StudyInstanceUid).HasMaxLength(64);
        e.Property(x => x.AccessionNumber).HasMaxLength(64);
        e.Property(x => x.DicomPatientName).HasMaxLength(200);
        e.Property(x => x.Modality).HasMaxLength(32);
        e.Property(x => x.Description).HasMaxLength(200);
        e.Property(x => x.ArchiveFile).HasMaxLength(200);
        e.Property(x => x.LinkSource).HasConversion<string>().HasMaxLength(8);
        e.Property(x => x.LinkedBy).HasMaxLength(256);
        e.HasIndex(x => x.OrthancId).IsUnique();
        e.HasIndex(x => x.PatientId);
        e.HasIndex(x => x.InvoiceId);
        e.HasIndex(x => x.StudyInstanceUid);
        e.HasOne(x => x.Patient).WithMany().OnDelete(DeleteBehavior.Restrict);
        e.HasOne(x => x.Invoice).WithMany().OnDelete(DeleteBehavior.Restrict);
    });
}
